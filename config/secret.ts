/**
 * A secret setting (an API key). It never shows up in JSON, logs or `String()`: code that needs the
 * value asks for it with `reveal()`, which makes every use of a secret easy to find.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return '[secret]';
  }

  toString(): string {
    return '[secret]';
  }
}
