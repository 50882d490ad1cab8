import { AnthropicProvider } from '../../../reasoning/anthropic';
import { DATA_CLOSE, DATA_OPEN, stepSchemaFor } from '../../../reasoning/prompt';
import { ProviderError } from '../../../reasoning/provider';
import { FakeLlmServer, SAMPLE_STEP, sampleRequest, wire } from '../../support/fake-llm-server';

const ROUTE = 'POST /v1/messages';
const KEY = 'sk-ant-test-0123456789abcdef';
const MODEL = 'claude-haiku-4-5';

describe('AnthropicProvider against a fake Messages server', () => {
  let server: FakeLlmServer;
  let provider: AnthropicProvider;

  beforeEach(async () => {
    server = await FakeLlmServer.start();
    provider = new AnthropicProvider({ apiKey: KEY, baseURL: server.url, model: MODEL, timeoutMs: 5000 });
  });
  afterEach(async () => {
    server.assertDrained();
    await server.close();
  });

  const failure = async (): Promise<ProviderError> => {
    const err = await provider.step(sampleRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  };
  const toolUse = (input: unknown) => ({ type: 'tool_use', id: 'toolu_1', name: 'reasoning_step', input });

  it('forces the single step tool and returns its input with usage', async () => {
    server.enqueue(ROUTE, {
      body: wire.anthropicMessage([toolUse(SAMPLE_STEP)], { input_tokens: 250, output_tokens: 31 }),
    });

    const reply = await provider.step(sampleRequest());

    expect(reply).toEqual({ step: SAMPLE_STEP, usage: { inputTokens: 250, outputTokens: 31 } });
    const [request] = server.requestsTo(ROUTE);
    const body = request.body as {
      model: string;
      system: string;
      max_tokens: number;
      messages: { role: string; content: string }[];
      tools: { name: string; input_schema: { type: string } }[];
      tool_choice: unknown;
    };
    expect(body.model).toBe(MODEL);
    expect(body.max_tokens).toBeGreaterThan(0);
    expect(body.tools).toHaveLength(1);
    expect(body.tools[0]).toMatchObject({ name: 'reasoning_step', input_schema: stepSchemaFor('anthropic-tool') });
    expect(body.tools[0].input_schema.type).toBe('object');
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'reasoning_step', disable_parallel_tool_use: true });
    expect(body.system).toContain('Customer refund');
    expect(body.messages).toHaveLength(1);
    expect(body.messages[0].content).toContain(DATA_OPEN);
    expect(body.messages[0].content).toContain(DATA_CLOSE);
    expect(request.rawBody).not.toContain(KEY);
  });

  it('turns 429 with an HTTP-date Retry-After into retryAfterMs', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    server.enqueue(ROUTE, {
      status: 429,
      headers: { 'retry-after': at },
      body: wire.anthropicError('Number of requests has exceeded your rate limit', 'rate_limit_error'),
    });
    const err = await failure();
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBeGreaterThan(25_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
    expect(server.requests).toHaveLength(1);
  });

  it('treats 500 and 529 (overloaded) as retryable', async () => {
    server.enqueue(
      ROUTE,
      { status: 500, body: wire.anthropicError('Internal server error', 'api_error') },
      { status: 529, body: wire.anthropicError('Overloaded', 'overloaded_error') },
    );
    expect((await failure()).retryable).toBe(true);
    const overloaded = await failure();
    expect(overloaded.retryable).toBe(true);
    expect(overloaded.message).toContain('Overloaded');
  });

  it('treats 401 as non-retryable, naming the provider and ANTHROPIC_API_KEY', async () => {
    server.enqueue(ROUTE, { status: 401, body: wire.anthropicError('invalid x-api-key', 'authentication_error') });
    const err = await failure();
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/anthropic:claude-haiku-4-5.*API key is missing or invalid.*ANTHROPIC_API_KEY/);
  });

  it('passes a 400 message through as non-retryable', async () => {
    server.enqueue(ROUTE, { status: 400, body: wire.anthropicError('tools.0.input_schema: JSON schema is invalid') });
    const err = await failure();
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('tools.0.input_schema: JSON schema is invalid');
  });

  it('reports tool input that is a malformed JSON string as an invalid reply (re-asked), showing it', async () => {
    server.enqueue(ROUTE, { body: wire.anthropicMessage([toolUse('{"observations": [')]) });
    const reply = await provider.step(sampleRequest());
    expect(reply.step).toBeUndefined();
    expect(reply.invalid).toContain('tool input that is not valid JSON');
    expect(reply.invalid).toContain('{"observations": [');
  });

  it('accepts tool input relayed as a JSON string', async () => {
    server.enqueue(ROUTE, { body: wire.anthropicMessage([toolUse(JSON.stringify(SAMPLE_STEP))]) });
    expect((await provider.step(sampleRequest())).step).toEqual(SAMPLE_STEP);
  });

  it('reports a reply without the tool call, showing its text', async () => {
    server.enqueue(ROUTE, {
      body: wire.anthropicMessage([{ type: 'text', text: 'I would rather chat.' }], undefined, 'end_turn'),
    });
    const reply = await provider.step(sampleRequest());
    expect(reply.step).toBeUndefined();
    expect(reply.invalid).toContain('I would rather chat.');
  });

  it('fails without a key before any request, naming ANTHROPIC_API_KEY', async () => {
    provider = new AnthropicProvider({ baseURL: server.url, model: MODEL, timeoutMs: 5000 });
    const err = await failure();
    expect(err.message).toBe(`anthropic:${MODEL} needs ANTHROPIC_API_KEY`);
    expect(server.requests).toHaveLength(0);
  });
});
