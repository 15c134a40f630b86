import { parseArgs } from 'node:util';
import { z } from 'zod';

// Locally, EMF metric lines would only clutter the terminal; logs stay. Set before the handlers load.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const { DEFAULT_PORTS, startLocalStack } = await import('./stack.ts');
const { pmsSampleRequests } = await import('./pms-samples.ts');

/**
 * `npm start`: the local stack on fixed ports (each overridable by env), with data kept
 * in .local/ across restarts unless --in-memory.
 */
const { values } = parseArgs({
  options: {
    'in-memory': { type: 'boolean', default: false },
    'data-dir': { type: 'string', default: '.local' },
    config: { type: 'string', default: 'config/guest-sync.example.json' },
  },
});

const port = z.coerce.number().int().min(0).max(65_535);
const env = z
  .object({
    GUEST_SYNC_HTTP_PORT: port.default(DEFAULT_PORTS.http),
    GUEST_SYNC_SANDBOX_PORT: port.default(DEFAULT_PORTS.sandbox),
    GUEST_SYNC_SQS_PORT: port.default(DEFAULT_PORTS.sqs),
    GUEST_SYNC_DYNAMODB_PORT: port.default(DEFAULT_PORTS.dynamodb),
    /** How often the sweep runs (EventBridge does it every 5 minutes on AWS). */
    GUEST_SYNC_SWEEP_SECONDS: z.coerce.number().positive().default(30),
  })
  .parse(process.env);

const stack = await startLocalStack({
  ports: { http: env.GUEST_SYNC_HTTP_PORT, sandbox: env.GUEST_SYNC_SANDBOX_PORT, sqs: env.GUEST_SYNC_SQS_PORT, dynamodb: env.GUEST_SYNC_DYNAMODB_PORT },
  dataDir: values['in-memory'] ? null : values['data-dir']!,
  configPath: values.config!,
  sweepIntervalMs: env.GUEST_SYNC_SWEEP_SECONDS * 1000,
  onError: (error) => console.error('[sync worker]', (error as Error).message),
});

const webhook = `${stack.urls.webhooks}/webhooks/hostaway-demo`;
console.log(`guest-sync local stack is up (${values['in-memory'] ? 'in memory' : `data in ${values['data-dir']}/`})

  webhooks   ${stack.urls.webhooks}/webhooks/{connectionId}   health: ${stack.urls.webhooks}/health
  sandboxes  ${stack.urls.sandbox}   (Minut: ${stack.urls.sandbox}/minut/v8, guests: ${stack.urls.sandbox}/_sandbox/minut/guests)
             RecepAI ${stack.urls.sandbox}/recepai/api/pms/v1, Kasify ${stack.urls.sandbox}/kasify/v1, HostelMate ${stack.urls.sandbox}/hostelmate/api/v1
             (state: /_sandbox/recepai/guests, /_sandbox/kasify/bookings, /_sandbox/hostelmate/bookings)
  SQS        ${stack.urls.sqs}   queue ${stack.queueUrl}
  DynamoDB   ${stack.urls.dynamodb}   table ${stack.tableName}

Demo connections (sandbox-only credentials, from config/secrets.example.json):
  hostaway-demo   HTTP Basic  hostaway-demo / demo-basic-password   property 219407 -> Minut, RecepAI, Kasify, HostelMate
  generic-demo    Standard Webhooks secret whsec_ZGVtby1nZW5lcmljLXNpZ25pbmcta2V5LTMyYnl0ZXM=   property city-flat -> Minut, RecepAI, Kasify, HostelMate
  guesty-demo     Svix secret whsec_ZGVtby1ndWVzdHktc2lnbmluZy1rZXktMzJieXRlcyE=   listing 6421f0b9c8d7e60011223344 -> Minut home_demo_city
                  Open API sandbox ${stack.urls.sandbox}/guesty, client demo-guesty-client / demo-guesty-secret
  smily-demo      app secret demo-smily-application-secret   rental 7731 -> Minut home_demo_seaside
                  API sandbox ${stack.urls.sandbox}/smily, client demo-smily-client / demo-smily-secret
  lodgify-demo    subscription secrets demo-lodgify-booking-new-secret, demo-lodgify-booking-change-secret   property 331207 -> all four
                  API sandbox ${stack.urls.sandbox}/lodgify, X-ApiKey demo-lodgify-api-key
  hospitable-demo webhook secret demo-hospitable-webhook-secret   property 550e8400-e29b-41d4-a716-446655440000 -> all four
                  API sandbox ${stack.urls.sandbox}/hospitable/v2, token demo-hospitable-personal-access-token
  smoobu-demo     URL token (below)   apartment 505200 -> all four
                  API sandbox ${stack.urls.sandbox}/smoobu, Api-Key demo-smoobu-api-key
  apaleo-demo     URL token (below)   property HFTF-AADS (Berlin) -> all four, units HFTF-AADS-101/102 -> rooms
                  API sandbox ${stack.urls.sandbox}/apaleo, client demo-apaleo-client / demo-apaleo-secret
  mews-demo       URL token (below)   enterprise 851df8c8-90f2-4c4a-8e01-a4fc46b25178 (Stockholm) -> all four
                  API sandbox ${stack.urls.sandbox}/mews, ClientToken demo-mews-client-token, AccessToken demo-mews-access-token
  cloudbeds-demo  URL token (below)   property 318267 (New York) -> all four
                  API sandbox ${stack.urls.sandbox}/cloudbeds/api/v1.3, x-api-key cbat_demo_cloudbeds_api_key
  Minut sandbox   client demo-minut-client / demo-minut-secret
  RecepAI sandbox hotel seaside-hotel, key pms_live_5eas1de0000000000000000000000000 (guests are in house only during their stay)
  Kasify sandbox  token kas_pat_demo_0000000000000000000000000000
  HostelMate      X-API-Key hm_live_demo000000000000000000000000

Send a first webhook (from the repository root):
  curl -i -X POST ${webhook} -u hostaway-demo:demo-basic-password -H 'content-type: application/json' --data @examples/hostaway-reservation.created.json

Then see the guest in the Minut sandbox:
  curl -s ${stack.urls.sandbox}/_sandbox/minut/guests
${await pmsSampleRequests(stack)}

Send a signed generic webhook (or any example, for any demo connection):
  npm run send -- generic-demo examples/generic-reservation.json ${stack.urls.webhooks}

Operator CLI (npx guest-sync --help): in another shell, first
${operatorEnv(stack.env)}
Stop with Ctrl-C.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    void stack.stop().then(() => process.exit(0));
  });
}

/** The `export` lines that point `npx guest-sync` at this stack (its endpoints, never its data folder). */
function operatorEnv(env: Record<string, string>): string {
  const names = [
    'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_SQS',
    'GUEST_SYNC_TABLE', 'GUEST_SYNC_QUEUE_URL', 'GUEST_SYNC_DLQ_URL', 'GUEST_SYNC_CONFIG', 'GUEST_SYNC_SECRETS', 'GUEST_SYNC_SECRETS_FILES',
  ];
  return names.filter((name) => env[name]).map((name) => `  export ${name}='${env[name]}'`).join('\n');
}
