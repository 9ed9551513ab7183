// Real client libraries against the proxy (make clients): the OpenAI Node SDK's tool runner and
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
