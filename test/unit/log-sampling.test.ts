import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { localContext } from '../../infra/local/lambda-context.ts';

/**
 * Powertools re-evaluates debug log sampling at each invocation. Our logger skips that when no
 * sample rate is set (it costs 2 to 3% of the ingest hot path and changes nothing then); with
 * POWERTOOLS_LOGGER_SAMPLE_RATE set, every invocation draws again, as Powertools documents.
 */
describe('debug log sampling', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it.each([
    ['set', '0.5', 3],
    ['not set', undefined, 0],
  ])('with the sample rate %s, invocations draw again %i times after the first', async (_label, rate, redraws) => {
    vi.resetModules();
    if (rate !== undefined) vi.stubEnv('POWERTOOLS_LOGGER_SAMPLE_RATE', rate);
    else vi.stubEnv('POWERTOOLS_LOGGER_SAMPLE_RATE', undefined as unknown as string);
    const draw = vi.spyOn(Logger.prototype, 'setLogLevel');
    const { logger } = await import('../../functions/core/powertools.ts');
    const handler = middy(async () => 'ok').use(injectLambdaContext(logger));
    draw.mockClear();
    for (let i = 0; i < 4; i++) await handler({}, localContext('sampling', 1_000));
    expect(draw).toHaveBeenCalledTimes(redraws);
  });
});
