import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLED_CONFIG_FILE, LAMBDA_NODE_OPTIONS } from '../../infra/bundling.ts';

/** A bundle's first request in a process of its own, as a Lambda cold start handles it. */
export interface FirstRequest {
  /** Time from the process's start until the first request was answered. */
  ms: number;
  /** Time from the process's start until the bundle was imported (the rest of `ms` is the first request). */
  importedMs: number;
  result: { statusCode?: number; batchItemFailures?: unknown[] };
  /** Whether Node loaded its fetch implementation (undici) on the way. */
  undici: boolean;
  /** With `recordAwsCalls`: each AWS request the process sent, by operation (`DynamoDB_20120810.GetItem`), in order. */
  awsCalls?: string[];
}

// Plain JS, so the child loads nothing but Node and the bundle. Its logs go to stdout, unread;
// the answer comes on stderr.
const CHILD = `
const { pathToFileURL } = await import('node:url');
// Only when asked (never in a timed run): the AWS operations the process calls, from their X-Amz-Target header.
const awsCalls = [];
if (process.env.FRESH_RECORD_AWS_CALLS) {
  const http = (await import('node:http')).default;
  const request = http.request;
  http.request = function (options, ...rest) {
    const headers = (options && options.headers) || {};
    const name = Object.keys(headers).find((h) => h.toLowerCase() === 'x-amz-target');
    if (name) awsCalls.push(String(headers[name]));
    return request.call(this, options, ...rest);
  };
  (await import('node:module')).syncBuiltinESMExports();
}
const { handler } = await import(pathToFileURL(process.env.FRESH_BUNDLE).href);
const importedMs = performance.now();
const deadline = Date.now() + 60000;
const context = { functionName: 'fresh', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fresh', memoryLimitInMB: '512', awsRequestId: 'fresh', logGroupName: 'fresh', logStreamName: 'fresh', getRemainingTimeInMillis: () => deadline - Date.now() };
const result = await handler(JSON.parse(process.env.FRESH_EVENT), context);
const undici = process.moduleLoadList.some((name) => name.includes('undici'));
const als = process.moduleLoadList.find((name) => name.startsWith('NativeModule internal/async_local_storage/'));
const asyncLocalStorage = als ? als.slice('NativeModule internal/async_local_storage/'.length) : 'none';
process.stderr.write('FIRST_REQUEST ' + JSON.stringify({ ms: performance.now(), importedMs, result, undici, asyncLocalStorage, ...(process.env.FRESH_RECORD_AWS_CALLS ? { awsCalls } : {}) }) + '\\n');
`;

/** Imports `bundle` in a new Node process started as Lambda starts it (its Node options; its config read from the bundle's folder) and hands it `event`. */
export function firstRequestInFreshProcess(bundle: string, event: unknown, env: NodeJS.ProcessEnv, options: { recordAwsCalls?: boolean } = {}): Promise<FirstRequest> {
  const childEnv = { ...env, NODE_OPTIONS: LAMBDA_NODE_OPTIONS, GUEST_SYNC_CONFIG: join(dirname(bundle), BUNDLED_CONFIG_FILE), FRESH_BUNDLE: bundle, FRESH_EVENT: JSON.stringify(event), ...(options.recordAwsCalls ? { FRESH_RECORD_AWS_CALLS: '1' } : {}) };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stderr.split('\n').find((l) => l.startsWith('FIRST_REQUEST '));
      if (code !== 0 || !line) return reject(new Error(`the fresh process for ${pathToFileURL(bundle).href} failed (${code}): ${stderr.slice(-500)}`));
      resolve(JSON.parse(line.slice('FIRST_REQUEST '.length)) as FirstRequest);
    });
  });
}
