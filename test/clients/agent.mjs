// Real client libraries against the proxy (make clients): the OpenAI Node SDK (core surface, tool runner, media, files, search) and
// LangChain's bindTools / withStructuredOutput, streaming and not. Exits non-zero on any mismatch.
import OpenAI from "openai";
import { ChatOpenAI } from "@langchain/openai";
import { tool } from "@langchain/core/tools";
import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { z } from "zod";
import assert from "node:assert/strict";

// LangChain counts tokens with tiktoken tables it downloads, retrying for minutes on an offline
// machine: serve them from the copy js-tiktoken ships instead.
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const table = String(url).match(/^https:\/\/tiktoken\.pages\.dev\/js\/(\w+)\.json$/);
  if (!table) return realFetch(url, init);
  const ranks = await import(`js-tiktoken/ranks/${table[1]}`);
  return new Response(JSON.stringify(ranks.default), { headers: { "content-type": "application/json" } });
};

const baseURL = process.argv[2] + "/v1";
const expected = "The tool said: 18C and sunny in Paris";

const sdk = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });

// the core surface: models, reasoning, usage, streaming framing, errors as the SDK's own classes
const ids = (await sdk.models.list()).data.map(m => m.id);
assert.ok(ids.includes("qwen3.7-plus") && ids.includes("qwen3.7-plus-thinking"), ids.join());
assert.equal((await sdk.models.retrieve("qwen3.7-plus-thinking")).owned_by, "qwen");
const ask = { model: "qwen3.7-plus-thinking", messages: [{ role: "developer", content: "Be brief." }, { role: "user", content: "Hi" }] };
const whole = await sdk.chat.completions.create(ask);
assert.equal(whole.choices[0].message.content, "Hello from Qwen.");
assert.ok(whole.choices[0].message.reasoning_content.includes("Keep it short."));
assert.equal(whole.choices[0].finish_reason, "stop");
assert.ok(whole.usage.prompt_tokens > 0 && whole.usage.total_tokens === whole.usage.prompt_tokens + whole.usage.completion_tokens);
for (const includeUsage of [true, false]) {
  const chunks = [];
  for await (const c of await sdk.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: includeUsage } })) chunks.push(c);
  assert.equal(new Set(chunks.map(c => c.id)).size, 1, "one id for every chunk");
  assert.equal(chunks[0].choices[0].delta.role, "assistant");
  assert.equal(chunks.map(c => c.choices[0]?.delta.content ?? "").join(""), whole.choices[0].message.content);
  assert.equal(chunks.map(c => c.choices[0]?.delta.reasoning_content ?? "").join(""), whole.choices[0].message.reasoning_content);
  const last = chunks.at(-1), finish = includeUsage ? chunks.at(-2) : last;
  assert.equal(finish.choices[0].finish_reason, "stop");
  assert.deepEqual(finish.choices[0].delta, {});
  if (includeUsage) assert.ok(last.choices.length === 0 && last.usage.completion_tokens > 0, JSON.stringify(last));
  else assert.ok(chunks.every(c => !c.usage), "no usage chunk unless asked");
}
const stopped = await sdk.chat.completions.create({ ...ask, stop: [" Qwen", "never"] });
assert.equal(stopped.choices[0].message.content, "Hello from");
const helper = await sdk.chat.completions.stream({ ...ask, model: "qwen3.7-plus" }).finalChatCompletion();
assert.equal(helper.choices[0].message.content, "Hello from Qwen.");
await assert.rejects(sdk.chat.completions.create({ ...ask, model: "no-such-model" }),
  e => e instanceof OpenAI.NotFoundError && e.code === "model_not_found");
await assert.rejects(sdk.chat.completions.create({ ...ask, n: 2 }), e => e instanceof OpenAI.BadRequestError && e.param === "n");
await assert.rejects(sdk.chat.completions.create({ model: "qwen3.7-plus", messages: "hi" }),
  e => e instanceof OpenAI.BadRequestError && e.param === "messages");
const lc = await new ChatOpenAI({ model: "qwen3.7-plus", apiKey: "unused", maxRetries: 0, configuration: { baseURL } }).invoke("Hi");
assert.equal(lc.content, "Hello from Qwen.");
assert.ok(lc.usage_metadata.input_tokens > 0);
console.log("openai models, chat, stream (usage on/off), errors; langchain invoke: ok");
const sdkTools = [{ type: "function", function: { name: "get_weather", description: "Weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  function: async ({ city }) => `18C and sunny in ${city}`, parse: JSON.parse } }];
for (const stream of [false, true]) {
  const runner = sdk.chat.completions.runTools({ model: "qwen3.7-plus", stream, tools: sdkTools,
    messages: [{ role: "user", content: "Weather in Paris?" }] });
  assert.equal(await runner.finalContent(), expected);
  assert.deepEqual(runner.messages.map(m => m.role), ["user", "assistant", "tool", "assistant"]);
  console.log(`openai runTools (stream=${stream}): ok`);
}

const getWeather = tool(async ({ city }) => `18C and sunny in ${city}`,
  { name: "get_weather", description: "Weather in a city", schema: z.object({ city: z.string() }) });
for (const streaming of [false, true]) {
  const llm = new ChatOpenAI({ model: "qwen3.7-plus", apiKey: "unused", streaming, maxRetries: 0, configuration: { baseURL } });
  const withTools = llm.bindTools([getWeather]);
  const messages = [new HumanMessage("Weather in Paris?")];
  const ai = await withTools.invoke(messages);
  assert.deepEqual(ai.tool_calls.map(t => [t.name, t.args]), [["get_weather", { city: "Paris" }]]);
  messages.push(ai);
  for (const tc of ai.tool_calls) messages.push(new ToolMessage({ content: await getWeather.invoke(tc.args), tool_call_id: tc.id }));
  assert.equal((await withTools.invoke(messages)).content, expected);
  const structured = await llm.withStructuredOutput(z.object({ city: z.string(), temp: z.number() }), { name: "weather" })
    .invoke("Paris weather as JSON");
  assert.deepEqual(structured, { city: "Paris", temp: 21 });
  console.log(`langchain bindTools + withStructuredOutput (streaming=${streaming}): ok`);
}

// §5.6: an agent conversation of ~300 KB (long system prompt, 40 file reads) through the SDK; the fake's edge
// refuses bodies over 128 KiB, so an answer means the proxy attached the conversation as a document
const fakeURL = process.argv[3];
const big = [{ role: "system", content: "SYSTEM-RULES " + "Follow the rules. ".repeat(1200) }, { role: "user", content: "TASK-START refactor" }];
for (let i = 0; i < 40; i++) {
  big.push({ role: "assistant", content: null, tool_calls: [{ id: `call_${i}`, type: "function",
    function: { name: "read_file", arguments: JSON.stringify({ path: `f${i}.java` }) } }] });
  big.push({ role: "tool", tool_call_id: `call_${i}`, content: `RESULT-${i} ` + "class F { int x = 1; }\n".repeat(300) });
}
big.push({ role: "assistant", content: null, tool_calls: [{ id: "call_last", type: "function", function: { name: "read_file", arguments: "{\"path\":\"a.txt\"}" } }] });
big.push({ role: "tool", tool_call_id: "call_last", content: "final result: 42" });
assert.ok(JSON.stringify(big).length > 300_000);
const readFile = [{ type: "function", function: { name: "read_file", description: "Reads a file",
  parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } } }];
for (const stream of [false, true]) {
  let text = "";
  if (stream) for await (const c of await sdk.chat.completions.create({ model: "qwen3.7-plus", stream, tools: readFile, messages: big }))
    text += c.choices[0]?.delta.content ?? "";
  else text = (await sdk.chat.completions.create({ model: "qwen3.7-plus", tools: readFile, messages: big })).choices[0].message.content;
  assert.equal(text, "The tool said: final result: 42");
  const last = await (await fetch(fakeURL + "/_fake/last")).json();
  assert.ok(last.size < 128 * 1024, `upstream body ${last.size} bytes`);
  const doc = last.files[last.body.messages[0].files[0].id];
  for (const mark of ["SYSTEM-RULES", "TASK-START", "RESULT-0 ", "RESULT-39 ", "final result: 42"]) assert.ok(doc.includes(mark), mark);
  console.log(`openai, a 300 KB agent conversation (stream=${stream}): upstream body ${last.size} bytes, whole context attached: ok`);
}


// issue 12: an image as a data URL, a document uploaded with files.create and used by id, and web search with citations
const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
for (const stream of [false, true]) {
  const vision = { model: "qwen3.7-plus", messages: [{ role: "user", content: [{ type: "text", text: "What is in it?" },
    { type: "image_url", image_url: { url: "data:image/png;base64," + png.toString("base64") } }] }] };
  let text = "";
  if (stream) for await (const c of await sdk.chat.completions.create({ ...vision, stream })) text += c.choices[0]?.delta.content ?? "";
  else text = (await sdk.chat.completions.create(vision)).choices[0].message.content;
  assert.equal(text, "Hello from Qwen.");
  const sent = (await (await fetch(fakeURL + "/_fake/last")).json()).body.messages[0].files[0];
  assert.equal(sent.file_class, "vision");
  console.log(`openai, an image as a data URL (stream=${stream}): ok`);
}
const uploaded = await sdk.files.create({ file: await OpenAI.toFile(Buffer.from("%PDF-1.4\nhello\n%%EOF\n"), "report.pdf"), purpose: "user_data" });
assert.ok(uploaded.id.startsWith("file-") && uploaded.filename === "report.pdf", JSON.stringify(uploaded));
assert.equal((await sdk.files.retrieve(uploaded.id)).bytes, uploaded.bytes);
const summary = await sdk.chat.completions.create({ model: "qwen3.7-plus", messages: [{ role: "user", content: [
  { type: "text", text: "Summarise" }, { type: "file", file: { file_id: uploaded.id } }] }] });
assert.equal(summary.choices[0].message.content, "Hello from Qwen.");
assert.equal((await (await fetch(fakeURL + "/_fake/last")).json()).body.messages[0].files[0].file_class, "document");
assert.equal((await sdk.files.delete(uploaded.id)).deleted, true);
console.log("openai files.create / retrieve / delete, the id in a message: ok");
const searched = await sdk.chat.completions.create({ model: "qwen3.7-plus-search", messages: [{ role: "user", content: "Paris?" }] });
const anns = searched.choices[0].message.annotations;
assert.ok(anns.length >= 2 && anns.every(a => a.type === "url_citation"), JSON.stringify(anns));
for (const a of anns) assert.ok(searched.choices[0].message.content.slice(a.url_citation.start_index, a.url_citation.end_index).includes(a.url_citation.url));
let streamed = "";
for await (const c of await sdk.chat.completions.create({ model: "qwen3.7-plus-search", stream: true, messages: [{ role: "user", content: "Paris?" }] }))
  streamed += c.choices[0]?.delta.content ?? "";
assert.equal(streamed, searched.choices[0].message.content);
console.log("openai, web search with url_citation annotations (stream and not): ok");

// issue 12: images (generate, edit, in chat), videos (in chat, as jobs), deep research
const gen = await sdk.images.generate({ model: "dall-e-3", prompt: "A cat on a roof", size: "1792x1024" });
assert.ok(gen.data[0].url.includes("/_fake/media/gen-"), JSON.stringify(gen));
const gen64 = await sdk.images.generate({ prompt: "Two cats", n: 2, response_format: "b64_json" });
assert.equal(gen64.data.length, 2);
assert.ok(Buffer.from(gen64.data[0].b64_json, "base64").equals(png));
const edited = await sdk.images.edit({ image: await OpenAI.toFile(png, "cat.png", { type: "image/png" }), prompt: "Make it blue" });
assert.ok(edited.data[0].url.includes("/_fake/media/gen-"));
let drawn = "";
for await (const c of await sdk.chat.completions.create({ model: "qwen3.7-plus-image", stream: true, messages: [{ role: "user", content: "Draw" }] }))
  drawn += c.choices[0]?.delta.content ?? "";
assert.ok(drawn.startsWith("![image 1]("), drawn);
console.log("openai images.generate (url, b64_json), images.edit, an -image model streaming: ok");
for (const stream of [false, true]) {
  let v = "";
  if (stream) for await (const c of await sdk.chat.completions.create({ model: "qwen3.7-plus-video", stream, messages: [{ role: "user", content: "A cat surfing" }] }))
    v += c.choices[0]?.delta.content ?? "";
  else v = (await sdk.chat.completions.create({ model: "qwen3.7-plus-video", messages: [{ role: "user", content: "A cat surfing" }] })).choices[0].message.content;
  assert.match(v, /^\[video\]\(.+\.mp4\)$/);
}
let job = await sdk.videos.create({ prompt: "A cat surfing", seconds: "4", size: "720x1280" });
while (!["completed", "failed"].includes(job.status)) { await new Promise(r => setTimeout(r, 250)); job = await sdk.videos.retrieve(job.id); }
assert.equal(job.status, "completed", JSON.stringify(job));
assert.ok((await (await sdk.videos.downloadContent(job.id)).text()).startsWith("fake mp4"));
console.log("openai, an -video model (stream and not), videos.create / retrieve / downloadContent: ok");
const research = { model: "qwen3.7-plus-deep-research", messages: [{ role: "user", content: "Research Paris" }] };
const report = await sdk.chat.completions.create(research);
assert.ok(report.choices[0].message.content.startsWith("# Report") && report.choices[0].message.reasoning_content.length > 0);
let reportStreamed = "";
for await (const c of await sdk.chat.completions.create({ ...research, stream: true })) reportStreamed += c.choices[0]?.delta.content ?? "";
assert.equal(reportStreamed, report.choices[0].message.content);
console.log("openai, deep research (stream and not): ok");

// issue 14: the Anthropic SDK against /v1/messages: create, stream, and a Claude-Code-style tool loop
const { default: Anthropic } = await import("@anthropic-ai/sdk");
const claude = new Anthropic({ baseURL: process.argv[2], apiKey: "unused", maxRetries: 0 });
const hello = await claude.messages.create({ model: "claude-sonnet-4-5", max_tokens: 256, messages: [{ role: "user", content: "Hi" }] });
assert.equal(hello.content.find(b => b.type === "text").text, "Hello from Qwen.");
assert.equal(hello.stop_reason, "end_turn");
const claudeStream = claude.messages.stream({ model: "claude-sonnet-4-5", max_tokens: 256, thinking: { type: "enabled", budget_tokens: 1024 },
  messages: [{ role: "user", content: "Hi" }] });
let deltas = "";
claudeStream.on("text", t => { deltas += t; });
const final = await claudeStream.finalMessage();
assert.equal(deltas, "Hello from Qwen.");
assert.equal(final.content.find(b => b.type === "text").text, "Hello from Qwen.");
assert.ok(final.content[0].type === "thinking" && final.content[0].thinking.length > 0);
const claudeTools = [{ name: "get_weather", description: "Weather in a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }];
for (const stream of [false, true]) {
  const convo = [{ role: "user", content: "Weather in Paris?" }];
  for (let turn = 0; turn < 3; turn++) {
    const reply = stream ? await claude.messages.stream({ model: "claude-opus-4-1", max_tokens: 1024, tools: claudeTools, system: "You are Claude Code.", messages: convo }).finalMessage()
      : await claude.messages.create({ model: "claude-opus-4-1", max_tokens: 1024, tools: claudeTools, system: "You are Claude Code.", messages: convo });
    convo.push({ role: "assistant", content: reply.content });
    if (reply.stop_reason !== "tool_use") { assert.equal(reply.content.at(-1).text, expected); break; }
    const use = reply.content.find(b => b.type === "tool_use");
    assert.deepEqual(use.input, { city: "Paris" });
    convo.push({ role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: `18C and sunny in ${use.input.city}` }] });
  }
  assert.equal(convo.length, 4, "tool_use, tool_result, answer");
  console.log(`anthropic messages ${stream ? "stream" : "create"}: a tool loop: ok`);
}
const counted = await claude.messages.countTokens({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hello there" }] });
assert.ok(counted.input_tokens > 0);
await assert.rejects(claude.messages.create({ model: "claude-sonnet-4-5", max_tokens: 10, messages: "nope" }),
  e => e instanceof Anthropic.BadRequestError && e.error?.error?.type === "invalid_request_error");
console.log("anthropic create, stream with thinking, count_tokens, errors: ok");

// issue 14: the OpenAI SDK's Responses API: create, stream, and a Codex-style function loop through previous_response_id
const respTools = [{ type: "function", name: "get_weather", description: "Weather in a city", strict: false,
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }];
const plain = await sdk.responses.create({ model: "qwen3.7-plus", instructions: "Be brief.", input: "Hi" });
assert.equal(plain.output_text, "Hello from Qwen.");
const rstream = sdk.responses.stream({ model: "qwen3.7-plus", input: "Hi" });
let rtext = "";
rstream.on("response.output_text.delta", e => { rtext += e.delta; });
const rfinal = await rstream.finalResponse();
assert.equal(rtext, "Hello from Qwen.");
assert.equal(rfinal.output_text, "Hello from Qwen.");
for (const stream of [false, true]) {
  let resp = stream ? await sdk.responses.stream({ model: "qwen3.7-plus", tools: respTools, input: "Weather in Paris?" }).finalResponse()
    : await sdk.responses.create({ model: "qwen3.7-plus", tools: respTools, input: "Weather in Paris?" });
  const call = resp.output.find(i => i.type === "function_call");
  assert.deepEqual(JSON.parse(call.arguments), { city: "Paris" });
  resp = await sdk.responses.create({ model: "qwen3.7-plus", tools: respTools, previous_response_id: resp.id,
    input: [{ type: "function_call_output", call_id: call.call_id, output: "18C and sunny in Paris" }] });
  assert.equal(resp.output_text, expected);
  assert.equal((await sdk.responses.retrieve(resp.id)).output_text, expected);
  console.log(`openai responses (stream=${stream}): a function loop through previous_response_id: ok`);
}

// issue 15: coder-model on the qwen-code backend (the CLI's credentials), a native tool loop, streaming and not
const weather = { type: "function", function: { name: "get_weather", description: "Weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };
assert.equal((await sdk.models.retrieve("coder-model")).owned_by, "qwen-code");
for (const stream of [false, true]) {
  const messages = [{ role: "user", content: "Weather in Paris?" }];
  let msg;
  if (stream) {
    const s = sdk.chat.completions.stream({ model: "coder-model", messages, tools: [weather], stream_options: { include_usage: true } });
    const done = await s.finalChatCompletion();
    msg = done.choices[0].message;
    assert.equal(done.choices[0].finish_reason, "tool_calls");
    assert.ok(done.usage.total_tokens > 0, "the API's usage chunk came through");
  } else {
    const done = await sdk.chat.completions.create({ model: "coder-model", messages, tools: [weather] });
    msg = done.choices[0].message;
    assert.equal(done.choices[0].finish_reason, "tool_calls");
  }
  assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), { city: "Paris" });
  messages.push(msg, { role: "tool", tool_call_id: msg.tool_calls[0].id, content: "18C and sunny in Paris" });
  const answer = await sdk.chat.completions.create({ model: "coder-model", messages, tools: [weather] });
  assert.equal(answer.choices[0].message.content, expected);
  console.log(`openai qwen-code coder-model (stream=${stream}): a native tool loop: ok`);
}
