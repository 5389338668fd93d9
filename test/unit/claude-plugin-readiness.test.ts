import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Readiness } from '../../packages/claude-plugin/src/readiness.js';

describe('claude-plugin readiness', () => {
  let announce: ReturnType<typeof vi.fn<() => void>>;
  let readiness: Readiness;

  beforeEach(() => {
    vi.useFakeTimers();
    announce = vi.fn<() => void>();
    readiness = new Readiness(150, announce);
  });

  afterEach(() => {
    readiness.dispose();
    vi.useRealTimers();
  });

  it('announces once, a settle delay after the first tools/list', () => {
    readiness.connected();
    readiness.toolsListed();
    vi.advanceTimersByTime(149);
    expect(announce).not.toHaveBeenCalled();
    readiness.toolsListed();
    vi.advanceTimersByTime(1);
    expect(announce).toHaveBeenCalledTimes(1);
    readiness.toolsListed();
    vi.advanceTimersByTime(1000);
    expect(announce).toHaveBeenCalledTimes(1);
  });

  it('announces again at once on every later connection', () => {
    readiness.toolsListed();
    vi.advanceTimersByTime(150);
    readiness.connected();
    readiness.connected();
    expect(announce).toHaveBeenCalledTimes(3);
  });

  it('leaves a connection made before the tools settled to the settle timer', () => {
    readiness.toolsListed();
    readiness.connected();
    expect(announce).not.toHaveBeenCalled();
    vi.advanceTimersByTime(150);
    expect(announce).toHaveBeenCalledTimes(1);
  });

  it('never announces after dispose', () => {
    readiness.toolsListed();
    readiness.dispose();
    vi.advanceTimersByTime(1000);
    expect(announce).not.toHaveBeenCalled();
  });
});
