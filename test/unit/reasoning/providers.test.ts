import type { Env } from '../../../config';
import { parseProviderConfig } from '../../../config';
import { ProviderError } from '../../../reasoning/provider';
import { buildProviderRegistry as buildFrom, requireProvider } from '../../../reasoning/providers';

/** Every setting comes from an environment map through the one configuration module. */
const loadProviderSettings = (env: Env) => parseProviderConfig(env);
const providerBoundary = (env: Env) => parseProviderConfig(env).boundaryInside;
const buildProviderRegistry = (env: Env) => buildFrom(parseProviderConfig(env));
const requireProviderSettings = (id: string, env: Env) => requireProvider(id, parseProviderConfig(env));

const OPENAI_KEY = 'sk-config-test-0123456789';
const ANTHROPIC_KEY = 'sk-ant-config-test-0123456789';

describe('provider configuration', () => {
  it('lists offline and every provider with its default model', () => {
    expect(buildProviderRegistry({}).ids()).toEqual([
      'offline:playbook',
      'openai:gpt-4o-mini',
      'anthropic:claude-haiku-4-5',
      'ollama:llama3.2',
    ]);
  });

  it('uses the configured models', () => {
    const ids = buildProviderRegistry({
      MANDATE_OPENAI_MODEL: 'gpt-4.1',
      MANDATE_ANTHROPIC_MODEL: 'claude-sonnet-4-5',
      MANDATE_OLLAMA_MODEL: 'qwen2.5:7b',
    }).ids();
    expect(ids).toEqual(['offline:playbook', 'openai:gpt-4.1', 'anthropic:claude-sonnet-4-5', 'ollama:qwen2.5:7b']);
  });

  it('names the missing key for the provider asked for', () => {
    expect(() => requireProviderSettings('openai:gpt-4o-mini', {})).toThrow('openai:gpt-4o-mini needs OPENAI_API_KEY');
    expect(() => requireProviderSettings('anthropic:claude-haiku-4-5', { OPENAI_API_KEY: OPENAI_KEY })).toThrow(
      'anthropic:claude-haiku-4-5 needs ANTHROPIC_API_KEY',
    );
    // An empty variable counts as unset.
    expect(() => requireProviderSettings('openai:gpt-4o-mini', { OPENAI_API_KEY: '' })).toThrow('needs OPENAI_API_KEY');
  });

  it('accepts providers whose settings are complete and says whether they are inside the boundary', () => {
    const env = { OPENAI_API_KEY: OPENAI_KEY, ANTHROPIC_API_KEY: ANTHROPIC_KEY };
    expect(requireProviderSettings('openai:gpt-4o-mini', env)).toEqual({
      id: 'openai:gpt-4o-mini',
      provider: 'openai',
      inside: false,
    });
    expect(requireProviderSettings('ollama:llama3.2', {})).toMatchObject({ provider: 'ollama', inside: true });
    expect(requireProviderSettings('offline:playbook', {})).toMatchObject({ provider: 'offline', inside: true });
  });

  it('lists the available providers for an unknown id', () => {
    let err: unknown;
    try {
      requireProviderSettings('openai:gpt-5-turbo', { OPENAI_API_KEY: OPENAI_KEY });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe(
      'unknown reasoning provider "openai:gpt-5-turbo"; available: offline:playbook, openai:gpt-4o-mini, ' +
        'anthropic:claude-haiku-4-5, ollama:llama3.2',
    );
  });

  it('has ollama and offline inside the boundary by default, and lets it be overridden', () => {
    expect([...providerBoundary({})].sort()).toEqual(['offline', 'ollama']);
    expect([...providerBoundary({ MANDATE_BOUNDARY_INSIDE: 'openai, ollama' })].sort()).toEqual([
      'offline', // never leaves the process, so always inside
      'ollama',
      'openai',
    ]);
    expect(
      requireProviderSettings('openai:gpt-4o-mini', {
        OPENAI_API_KEY: OPENAI_KEY,
        MANDATE_BOUNDARY_INSIDE: 'openai',
      }).inside,
    ).toBe(true);
  });

  it('stops on a wrong setting with a one-line explanation', () => {
    expect(() => loadProviderSettings({ MANDATE_BOUNDARY_INSIDE: 'ollama,gemini' })).toThrow(
      /invalid provider settings: MANDATE_BOUNDARY_INSIDE\.1: expected names from offline, openai, anthropic, ollama/,
    );
    expect(() => loadProviderSettings({ OPENAI_BASE_URL: 'not a url' })).toThrow(/OPENAI_BASE_URL/);
    expect(() => loadProviderSettings({ MANDATE_PROVIDER_TIMEOUT_MS: 'soon' })).toThrow(/MANDATE_PROVIDER_TIMEOUT_MS/);
  });

  it('never puts a key in an error message or a returned object', () => {
    const env = { OPENAI_API_KEY: OPENAI_KEY, ANTHROPIC_API_KEY: ANTHROPIC_KEY, OPENAI_BASE_URL: 'bad url' };
    let message = '';
    try {
      loadProviderSettings(env);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('OPENAI_BASE_URL');
    const good = { OPENAI_API_KEY: OPENAI_KEY, ANTHROPIC_API_KEY: ANTHROPIC_KEY };
    const settings = loadProviderSettings(good);
    const seen = JSON.stringify({ ...settings, boundaryInside: [...settings.boundaryInside] });
    for (const text of [message, seen, JSON.stringify(requireProviderSettings('openai:gpt-4o-mini', good))]) {
      expect(text).not.toContain(OPENAI_KEY);
      expect(text).not.toContain(ANTHROPIC_KEY);
    }
    const registry = buildProviderRegistry(good);
    for (const id of registry.ids()) {
      expect(JSON.stringify(registry.resolve(id))).not.toContain('sk-');
    }
    expect(settings.openai.hasKey).toBe(true);
  });
});
