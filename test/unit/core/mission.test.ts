import { ReasoningStep, RESERVED_CONTEXT_NAMES } from '../../../core/mission';

const read = (as: string) => ({ observations: [], next: { kind: 'read', operation: 'cases.get', params: {}, as } });

describe('ReasoningStep', () => {
  it.each(RESERVED_CONTEXT_NAMES)('refuses a read that would overwrite the mission-kept %s', (name) => {
    const result = ReasoningStep.safeParse(read(name));
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(/reserved for the mission/);
  });

  it('accepts a read into any other name', () => {
    expect(ReasoningStep.safeParse(read('priorRefunds')).success).toBe(true);
  });

  it('refuses a proposal without a rationale and a finish with an unknown verdict', () => {
    expect(
      ReasoningStep.safeParse({
        observations: [],
        next: { kind: 'propose', operation: 'refunds.issue', params: {}, rationale: '' },
      }).success,
    ).toBe(false);
    expect(
      ReasoningStep.safeParse({ observations: [], next: { kind: 'finish', verdict: 'approved', summary: 'x' } })
        .success,
    ).toBe(false);
  });
});
