import type { ReasoningProvider } from './provider';
import { ProviderError } from './provider';

/** Resolves `provider:model` names to providers; an unknown name lists the ones there are. */
export class ProviderRegistry {
  private readonly providers = new Map<string, ReasoningProvider>();

  constructor(providers: ReasoningProvider[]) {
    for (const provider of providers) this.providers.set(provider.id, provider);
  }

  resolve(id: string): ReasoningProvider {
    const provider = this.providers.get(id);
    if (!provider) {
      throw new ProviderError(
        `unknown reasoning provider "${id}"; available: ${[...this.providers.keys()].join(', ')}`,
        false,
      );
    }
    return provider;
  }

  ids(): string[] {
    return [...this.providers.keys()];
  }
}
