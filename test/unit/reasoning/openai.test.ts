import { OpenAIProvider } from '../../../reasoning/openai';
import { DATA_CLOSE, DATA_OPEN, stepSchemaFor } from '../../../reasoning/prompt';
import { ProviderError } from '../../../reasoning/provider';
import { ReasoningStep } from '../../../core/mission';
import { FakeLlmServer, SAMPLE_STEP, sampleRequest, wire } from '../../support/fake-llm-server';

const ROUTE = 'POST /v1/chat/completions';
const KEY = 'sk-test-0123456789abcdef';

describe('OpenAIProvider against a fake Chat Completions server', () => {
  let server: FakeLlmServer;
  let provider: OpenAIProvider;

  beforeEach(async () => {
    server = await FakeLlmServer.start();
    provider = new OpenAIProvider({ apiKey: KEY, baseURL: `${server.url}/v1`, model: 'gpt-4o-mini', timeoutMs: 5000 });
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

  it('sends a strict json_schema request and returns the parsed step with usage', async () => {
    // Strict mode cannot express free-form objects: params travel as a JSON string and are decoded.
    const content = JSON.stringify({ ...SAMPLE_STEP, next: { ...SAMPLE_STEP.next, params: '{"orderId":"ORD-1001"}' } });
    server.enqueue(ROUTE, { body: wire.openaiChat(content, { prompt_tokens: 321, completion_tokens: 45 }) });

    const reply = await provider.step(sampleRequest());

    expect(reply.step).toEqual(SAMPLE_STEP);
    expect(ReasoningStep.safeParse(reply.step).success).toBe(true);
    expect(reply.usage).toEqual({ inputTokens: 321, outputTokens: 45 });

    const [request] = server.requestsTo(ROUTE);
    const body = request.body as {
      model: string;
      messages: { role: string; content: string }[];
      response_format: { type: string; json_schema: { name: string; strict: boolean; schema: unknown } };
    };
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'reasoning_step', strict: true, schema: stepSchemaFor('openai-strict') },
    });
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(body.messages[1].content).toContain(DATA_OPEN);
    expect(body.messages[1].content).toContain(DATA_CLOSE);
    expect(body.messages[0].content).toContain('refunds.issue');
    expect(request.rawBody).not.toContain(KEY);
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('keeps the strict schema within what strict mode accepts', () => {
    const text = JSON.stringify(stepSchemaFor('openai-strict'));
    for (const keyword of ['oneOf', '"const"', 'minLength', 'maxLength', 'propertyNames', '$schema']) {
      expect(text).not.toContain(keyword);
    }
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n.type === 'object') {
        expect(n.additionalProperties).toBe(false);
        expect([...(n.required as string[])].sort()).toEqual(Object.keys(n.properties as object).sort());
      }
      Object.values(n).forEach(walk);
    };
    walk(stepSchemaFor('openai-strict'));
  });

  it('turns 429 with Retry-After into a retryable error that says how long to wait', async () => {
    server.enqueue(ROUTE, {
      status: 429,
      headers: { 'retry-after': '7' },
      body: wire.openaiError('Rate limit reached', 'requests'),
    });
    const err = await failure();
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(7000);
    expect(err.status).toBe(429);
    expect(server.requests).toHaveLength(1); // the SDK did not retry on its own
  });

  it('prefers retry-after-ms', async () => {
    server.enqueue(ROUTE, {
      status: 429,
      headers: { 'retry-after-ms': '1500', 'retry-after': '9' },
      body: wire.openaiError('slow down'),
    });
    expect((await failure()).retryAfterMs).toBe(1500);
  });

  it('treats 500 as retryable', async () => {
    server.enqueue(ROUTE, { status: 500, body: wire.openaiError('The server had an error', 'server_error') });
    const err = await failure();
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('openai:gpt-4o-mini');
  });

  it('treats 401 as non-retryable, naming the provider and the key variable but not the key', async () => {
    server.enqueue(ROUTE, {
      status: 401,
      body: wire.openaiError(`Incorrect API key provided: ${KEY}.`, 'invalid_request_error'),
    });
    const err = await failure();
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/openai:gpt-4o-mini.*API key is missing or invalid.*OPENAI_API_KEY/);
    expect(err.message).not.toContain(KEY);
  });

  it('passes other 4xx messages through as non-retryable', async () => {
    server.enqueue(ROUTE, {
      status: 400,
      body: wire.openaiError("Invalid schema for response_format 'reasoning_step'"),
    });
    const err = await failure();
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("Invalid schema for response_format 'reasoning_step'");
  });

  it('reports content that is not JSON as an invalid reply (re-asked), showing what came back', async () => {
    server.enqueue(ROUTE, { body: wire.openaiChat('Sure! Here is the step: {observations: [') });
    const reply = await provider.step(sampleRequest());
    expect(reply.step).toBeUndefined();
    expect(reply.invalid).toContain('not valid JSON');
    expect(reply.invalid).toContain('Sure! Here is the step');
  });

  it('rejects params that do not decode to an object', async () => {
    const content = JSON.stringify({ ...SAMPLE_STEP, next: { ...SAMPLE_STEP.next, params: '[1,2]' } });
    server.enqueue(ROUTE, { body: wire.openaiChat(content) });
    const reply = await provider.step(sampleRequest());
    expect(reply.step).toBeUndefined();
    expect(reply.invalid).toContain('next.params is not a JSON object');
  });

  it('reports a refusal as non-retryable', async () => {
    server.enqueue(ROUTE, {
      body: {
        ...wire.openaiChat(null),
        choices: [
          { index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot help' }, finish_reason: 'stop' },
        ],
      },
    });
    const err = await failure();
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('I cannot help');
  });

  it('treats a timeout as retryable', async () => {
    provider = new OpenAIProvider({ apiKey: KEY, baseURL: `${server.url}/v1`, model: 'gpt-4o-mini', timeoutMs: 100 });
    server.enqueue(ROUTE, { delayMs: 2000, body: wire.openaiChat('{}') });
    const err = await failure();
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('timed out');
  });

  it('fails without a key before any request, naming OPENAI_API_KEY', async () => {
    provider = new OpenAIProvider({ baseURL: `${server.url}/v1`, model: 'gpt-4o-mini', timeoutMs: 5000 });
    const err = await failure();
    expect(err.message).toBe('openai:gpt-4o-mini needs OPENAI_API_KEY');
    expect(server.requests).toHaveLength(0);
  });

  it('never exposes the key through the provider object', () => {
    expect(JSON.stringify(provider)).not.toContain(KEY);
    expect(Object.values(provider).join(' ')).not.toContain(KEY);
  });

  it('fails loudly when the fake server has no reply queued', async () => {
    const err = await failure();
    expect(err.retryable).toBe(true); // a 500 from the fake
    expect(err.message).toContain('no canned reply queued for POST /v1/chat/completions');
    expect(server.takeFailures()).toHaveLength(1);
  });
});

describe('OpenAIProvider when nothing listens', () => {
  it('treats a refused connection as retryable', async () => {
    const server = await FakeLlmServer.start();
    const baseURL = `${server.url}/v1`;
    await server.close();
    const provider = new OpenAIProvider({ apiKey: KEY, baseURL, model: 'gpt-4o-mini', timeoutMs: 5000 });
    const err = (await provider.step(sampleRequest()).catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(true);
  });
});
