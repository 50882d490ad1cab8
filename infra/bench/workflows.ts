import { proxyActivities } from '@temporalio/workflow';
import type { BenchActivities } from './activities';

const { noop } = proxyActivities<BenchActivities>({ startToCloseTimeout: '30 seconds' });

/** Benchmark baseline: a bare workflow running `count` no-op activities in sequence. */
export async function bareActivities(count: number): Promise<number> {
  for (let i = 0; i < count; i++) await noop(i);
  return count;
}
