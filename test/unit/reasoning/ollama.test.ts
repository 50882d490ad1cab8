import { OllamaProvider } from '../../../reasoning/ollama';
import { DATA_CLOSE, DATA_OPEN, stepSchemaFor } from '../../../reasoning/prompt';
import { ProviderError } from '../../../reasoning/provider';
import { FakeLlmServer, SAMPLE_STEP, sampleRequest, wire } from '../../support/fake-llm-server';

const ROUTE = 'POST /api/chat';

describe('OllamaProvider against a fake Ollama server', () => {
  let server: FakeLlmServer;
  let provider: OllamaProvider;

  beforeEach(async () => {
    server = await FakeLlmServer.start();
    provider = new OllamaProvider({ host: server.url, model: 'llama3.2', timeoutMs: 5000 });
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

  it('sends the step schema as format and returns the parsed step with eval counts as usage', async () => {
    server.enqueue(ROUTE, {
      body: wire.ollamaChat(JSON.stringify(SAMPLE_STEP), { prompt_eval_count: 400, eval_count: 60 }),
    });

    const reply = await provider.step(sampleRequest());

    expect(reply).toEqual({ step: SAMPLE_STEP, usage: { inputTokens: 400, outputTokens: 60 } });
    const [request] = server.requestsTo(ROUTE);
    const body = request.body as { model: string; stream: boolean; format: unknown; messages: { content: string }[] };
    expect(body.model).toBe('llama3.2');
    expect(body.stream).toBe(false);
    expect(body.format).toEqual(stepSchemaFor('ollama-format'));
    expect(body.messages[1].content).toContain(DATA_OPEN);
    expect(body.messages[1].content).toContain(DATA_CLOSE);
    expect(request.headers.authorization).toBeUndefined();
  });

  it('sends an optional key as a bearer token, never in the body', async () => {
    const key = 'ollama-key-0123456789';
    provider = new OllamaProvider({ apiKey: key, host: server.url, model: 'llama3.2', timeoutMs: 5000 });
    server.enqueue(ROUTE, { body: wire.ollamaChat(JSON.stringify(SAMPLE_STEP)) });
    await provider.step(sampleRequest());
    const [request] = server.requests;
    expect(request.headers.authorization).toBe(`Bearer ${key}`);
    expect(request.rawBody).not.toContain(key);
    expect(JSON.stringify(provider)).not.toContain(key);
  });

  it('turns 429 with Retry-After (e.g. from a proxy) into a retryable error with retryAfterMs', async () => {
    server.enqueue(ROUTE, {
      status: 429,
      headers: { 'retry-after': '3' },
      body: wire.ollamaError('too many requests'),
    });
    const err = await failure();
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(3000);
  });

  it('treats 500 as retryable', async () => {
    server.enqueue(ROUTE, { status: 500, body: wire.ollamaError('llama runner process has terminated') });
    const err = await failure();
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('llama runner process has terminated');
  });

  it('treats 401 as non-retryable, naming the provider', async () => {
    server.enqueue(ROUTE, { status: 401, body: wire.ollamaError('unauthorized') });
    const err = await failure();
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/ollama:llama3.2.*API key is missing or invalid/);
  });

  it('passes 404 (model not pulled) through as non-retryable', async () => {
    server.enqueue(ROUTE, { status: 404, body: wire.ollamaError("model 'llama3.2' not found") });
    const err = await failure();
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("model 'llama3.2' not found");
  });

  it('reports content that is not JSON as an invalid reply (re-asked), showing what came back', async () => {
    server.enqueue(ROUTE, { body: wire.ollamaChat('```json\n{"observations": [] ') });
    const reply = await provider.step(sampleRequest());
    expect(reply.step).toBeUndefined();
    expect(reply.invalid).toContain('not valid JSON');
    expect(reply.invalid).toContain('{"observations": []');
  });

  it('applies its timeout (ollama-js has none) and treats it as retryable', async () => {
    provider = new OllamaProvider({ host: server.url, model: 'llama3.2', timeoutMs: 100 });
    server.enqueue(ROUTE, { delayMs: 2000, body: wire.ollamaChat('{}') });
    const err = await failure();
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('timed out');
  });
});

describe('OllamaProvider when nothing listens', () => {
  it('treats a refused connection as retryable', async () => {
    const server = await FakeLlmServer.start();
    await server.close();
    const provider = new OllamaProvider({ host: server.url, model: 'llama3.2', timeoutMs: 5000 });
    const err = (await provider.step(sampleRequest()).catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(true);
  });
});
