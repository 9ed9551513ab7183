# QwenProxy in a container. The file is compiled here, so the container starts in well under a second.
#   docker build -t qwenproxy .
#   docker run -d -p 8787:8787 -e QWEN_REFRESH_TOKEN=<rt> -e QWEN_PROXY_API_KEY=sk-mine -v qwenproxy:/data qwenproxy
FROM eclipse-temurin:21-jdk AS build
WORKDIR /src
COPY QwenProxy.java .
RUN javac --release 17 -d /out QwenProxy.java

FROM eclipse-temurin:21-jre
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin qwenproxy \
 && mkdir -p /data && chown qwenproxy /data && chmod 700 /data
COPY --from=build /out /app
USER qwenproxy
# every setting is an environment variable (README, Options); the data directory is a volume
ENV HOST=0.0.0.0 PORT=8787 QWEN_PROXY_DATA_DIR=/data
VOLUME /data
EXPOSE 8787
# bash's /dev/tcp: the image needs no curl for its health check
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/${PORT} && printf "GET /healthz HTTP/1.0\r\n\r\n" >&3 && head -1 <&3 | grep -q " 200"'
STOPSIGNAL SIGTERM
ENTRYPOINT ["java", "-cp", "/app", "QwenProxy"]
