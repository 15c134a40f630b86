import { resolve } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
  type HttpRoute,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { GraphWidget, LogQueryWidget, MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function, FunctionUrlAuthType, Runtime, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { loadConfigFile, pmsTypes, secretRefs, targetNames, type Config } from '../functions/core/config.ts';
import { CONFIG_ITEM_KEY } from '../functions/core/config-store.ts';
import { SYNC_TIMEOUT_SECONDS } from '../functions/core/budget.ts';
import { DUE_INDEX, PARKED_PK_PATTERN } from '../functions/core/dynamodb-store.ts';
import { LANE_MAX_CONCURRENCY, MAX_RECEIVE_COUNT } from '../functions/core/queue.ts';
import { BUNDLED_CONFIG_FILE, functionCode, LAMBDA_NODE_OPTIONS } from './bundling.ts';
import { ALARM_THRESHOLDS, Monitoring } from './monitoring.ts';

export interface GuestSyncStackProps extends StackProps {
  /** Deployment stage (`dev`, `prod`, ...): part of the stack name, secret names and resource names. */
  readonly stage: string;
  /** The guest-sync config file; validated at synth time and shipped inside each function bundle. */
  readonly configPath: string;
  /** Cap on concurrent sync invocations (event source mapping `MaximumConcurrency`, 2-1000). Default 5. */
  readonly maxConcurrency?: number;
  /** When reconciliation runs: an EventBridge schedule expression. Default `rate(1 day)`. */
  readonly reconcileSchedule?: string;
  /** Alarm when any reservation has been behind on a target (retrying or pending) this many minutes. Default 30. */
  readonly laggingAlarmMinutes?: number;
  /**
   * What receives the webhooks: `httpApi` (default: stage throttling, access logs, custom
   * domains) or `functionUrl` (the ingest function's own URL: $1.00 less per 1M webhooks, no
   * throttling beyond `ingestReservedConcurrency`, no access logs). docs/throughput.md weighs them.
   */
  readonly ingress?: Ingress;
  /** With a Function URL: the most ingest invocations at once (reserved concurrency), so a flood cannot take the account's. Default none. */
  readonly ingestReservedConcurrency?: number;
}

/**
 * The webhook API's access log line (ingress `httpApi`): request metadata only, no headers, no
 * body, no path and no query string (they may carry personal data or a connection's URL token);
 * the route key is the template, not the path. The bench prices its bytes.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  userAgent: '$context.identity.userAgent',
} as const;

export const INGRESSES = ['httpApi', 'functionUrl'] as const;
export type Ingress = (typeof INGRESSES)[number];

export const DEFAULT_LAGGING_ALARM_MINUTES = 30;
export const DEFAULT_RECONCILE_SCHEDULE = 'rate(1 day)';

/*
 * Function sizing.
 * - ingest, 256 MB / 10 s: per request it verifies a signature, parses with zod and sends one SQS
 *   message (secrets are cached after the first call). Lambda CPU scales with memory and 256 MB is
 *   enough for that work in a few milliseconds warm. PMSs give up after 20 s or less and the HTTP
 *   API integration limit is 30 s, so a 10 s timeout fails a stuck call early enough that the PMS
 *   sees a 5xx and retries instead of a gateway timeout.
 * - sync, 512 MB / 60 s: a batch is up to 10 messages, each may call several target APIs in turn
 *   over TLS and may wait out a short Retry-After; more memory means more CPU for TLS and JSON and a
 *   faster cold start. 60 s leaves room for a full batch while keeping retries prompt.
 * - The queue's visibility timeout is 6 x the sync timeout (AWS guidance for SQS event sources), so
 *   a message is not redelivered while a (retried) invocation may still be working on it.
 *
 * Route throttling, sized so a flood cannot exhaust the account's Lambda concurrency.
 * Concurrent ingest invocations = requests per second x seconds per invocation. Warm, ingest takes
 * well under 100 ms, so 50 req/s is about 5 concurrent; even if every call hung until the 10 s
 * timeout (an SQS outage), 50 req/s x 10 s = 500, half of the default regional quota of 1000,
 * leaving the rest for sync (capped separately by the event source's maximum concurrency) and
 * any other workload in the account. 50 req/s sustained is far above what PMSs send for one host's
 * properties (a busy host sees a few deliveries per minute), and the burst of 100 absorbs a PMS
 * replaying a backlog. A request over the limit gets a 429: Hostaway-style PMSs retry it, and
 * deliveries lost to a flood can be recovered with a PMS-side resend or `guest-sync resync`.
 */
/**
 * IAM: each function gets only the actions it uses, on named resources. The one wildcard, and why
 * AWS requires it (test/infra/stack.test.ts checks that nothing else has one):
 * - A log group's `Arn` attribute ends in `:*` (`arn:aws:logs:<region>:<account>:log-group:<name>:*`).
 *   logs:CreateLogStream and logs:PutLogEvents act on log STREAMS, which Lambda names at run time
 *   inside the function's own group; there is no narrower resource to name. Only those two actions
 *   are granted on it.
 * The alarm topic's policy has `Principal: *` only in a Deny (publishing without TLS is refused).
 */
export const IAM_WILDCARD_ACTIONS_ON_LOG_GROUPS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

export const INGEST_MEMORY_MB = 256;
export const INGEST_TIMEOUT = Duration.seconds(10);
export const SYNC_MEMORY_MB = 512;
export const SYNC_TIMEOUT = Duration.seconds(SYNC_TIMEOUT_SECONDS);
export const QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(SYNC_TIMEOUT.toSeconds() * 6);
export const SYNC_BATCH_SIZE = 10;
/*
 * sweep, 256 MB / 60 s, every 5 minutes: one query per target on the sparse `due` index and a few
 * SQS batch sends. Five minutes is the granularity of RecepAI check-ins/outs and of retrying a
 * paused target; a run that finds nothing costs one query per target.
 */
export const SWEEP_MEMORY_MB = 256;
export const SWEEP_TIMEOUT = Duration.seconds(60);
export const SWEEP_INTERVAL = Duration.minutes(5);
export const DEFAULT_MAX_CONCURRENCY = 5;
export const WEBHOOK_ROUTE_PATH = '/webhooks/{connectionId}';
/** URL-token connections (Smoobu...) may put their token here instead of `?token=`: never logged (see the access log format). */
export const WEBHOOK_TOKEN_ROUTE_PATH = '/webhooks/{connectionId}/{token}';
export const API_RATE_LIMIT = 50;
export const API_BURST_LIMIT = 100;
/** How long functions trust the config item they read (config without redeploy). */
export const CONFIG_CACHE_SECONDS = 60;
/** Where the bundled config sits in the Lambda file system (`/var/task` is the bundle root). */
export const LAMBDA_CONFIG_PATH = `/var/task/${BUNDLED_CONFIG_FILE}`;

const STAGE_PATTERN = /^[a-zA-Z][a-zA-Z0-9-]{0,31}$/;

export class GuestSyncStack extends Stack {
  readonly stage: string;
  readonly config: Config;
  readonly table: TableV2;
  readonly queue: Queue;
  /** Each configured target's lane: a FIFO queue its backlog waits in, so it holds no other target back. */
  readonly laneQueues: Record<string, Queue>;
  readonly deadLetterQueue: Queue;
  readonly ingestFunction: Function;
  readonly syncFunction: Function;
  readonly sweepFunction: Function;
  readonly sweepRole: Role;
  readonly sweepSchedule: Rule;
  readonly reconcileSchedule: Rule;
  readonly ingestRole: Role;
  readonly syncRole: Role;
  readonly ingress: Ingress;
  /** The HTTP API and its routes (ingress `httpApi`). */
  readonly httpApi?: HttpApi;
  readonly httpStage?: HttpStage;
  readonly webhookRoutes: HttpRoute[];
  /** The ingest function's URL (ingress `functionUrl`). */
  readonly functionUrl?: FunctionUrl;
  /** Secret ref (as written in the config) -> its Secrets Manager secret. */
  readonly secrets: ReadonlyMap<string, CfnSecret>;
  /** Alarm topic, alarms and dashboard. A function added to the stack gets its alarms with `monitoring.monitorFunction()`. */
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: GuestSyncStackProps) {
    // Checked before the Stack exists, so a bad stage gets this message rather than a stack-name error.
    if (!STAGE_PATTERN.test(props.stage)) {
      throw new Error(`stage "${props.stage}" is invalid: expected a letter, then up to 31 letters, digits or "-"`);
    }
    const maxConcurrency = props.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
      throw new Error(`maxConcurrency ${String(props.maxConcurrency)} is invalid: expected an integer from 2 to 1000`);
    }
    super(scope, id, {
      description: `guest-sync (${props.stage}): PMS reservation webhooks -> SQS FIFO -> guest tools`,
      ...props,
    });
    this.stage = props.stage;
    const configPath = resolve(props.configPath);
    // Fails the synth with a message naming each bad field.
    this.config = loadConfigFile(configPath);
    Tags.of(this).add('app', 'guest-sync');
    Tags.of(this).add('stage', this.stage);
    // Per source and per target: every one the code supports, so a pushed config is covered too.
    const laggingAlarmMinutes = props.laggingAlarmMinutes ?? DEFAULT_LAGGING_ALARM_MINUTES;
    if (!Number.isInteger(laggingAlarmMinutes) || laggingAlarmMinutes < 1) throw new Error(`laggingAlarmMinutes ${String(laggingAlarmMinutes)} is invalid: expected a whole number of minutes, 1 or more`);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage: this.stage,
      laggingAlarmMinutes,
      sources: pmsTypes,
      targets: [...targetNames],
    });

    // ---- DynamoDB: one table, see DESIGN.md "Data in DynamoDB".
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryptionV2.awsManagedKey(),
      // The table holds the reservation -> target-id mapping; losing it means duplicate guests.
      removalPolicy: RemovalPolicy.RETAIN,
      // Sparse: only target states with a due time carry dueBucket/dueAt, so the sweep queries, never scans.
      globalSecondaryIndexes: [
        {
          indexName: DUE_INDEX,
          partitionKey: { name: 'dueBucket', type: AttributeType.STRING },
          sortKey: { name: 'dueAt', type: AttributeType.NUMBER },
          projectionType: ProjectionType.KEYS_ONLY,
        },
      ],
    });

    // ---- SQS FIFO queue + FIFO dead-letter queue.
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    // The main queue and each lane: FIFO; the senders (ingest, sync) set MessageDeduplicationId (delivery id or body
    // hash) and MessageGroupId themselves; one DLQ for all.
    const workQueueProps = {
      fifo: true,
      contentBasedDeduplication: false,
      visibilityTimeout: QUEUE_VISIBILITY_TIMEOUT,
      retentionPeriod: Duration.days(4),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    };
    this.queue = new Queue(this, 'Queue', workQueueProps);
    // A lane per target (docs/throughput.md, "Each target drains its own backlog"): sync puts a
    // target's work there when its turn is far off.
    this.laneQueues = {};
    for (const name of Object.keys(this.config.targets).sort()) this.laneQueues[name] = new Queue(this, `Lane-${name}`, workQueueProps);

    // ---- Secrets: one per name the config refers to, created EMPTY (no value in git or in the
    // template). Fill them after the first deploy: see docs. The functions read them at runtime.
    const secretPrefix = `guest-sync/${this.stage}/`;
    const secrets = new Map<string, CfnSecret>();
    for (const ref of secretRefs(this.config)) {
      const secret = new CfnSecret(this, `Secret-${ref}`, {
        name: `${secretPrefix}${ref}`,
        description: `guest-sync ${this.stage}: secret "${ref}" referenced by the config (value set out of band)`,
      });
      secrets.set(ref, secret);
      new CfnOutput(this, `SecretName-${ref}`, { value: `${secretPrefix}${ref}` });
    }
    this.secrets = secrets;
    // Split by use: connection (webhook verification) secrets to ingest; target credentials and
    // PMS API credentials (notify-then-fetch happens only in the sync worker) to sync.
    const connectionSecretRefs = new Set(Object.values(this.config.connections).map((c) => c.secret));
    const targetSecretRefs = new Set([
      ...Object.values(this.config.targets).flatMap((target) => (target ? [target.credentials] : [])),
      ...Object.values(this.config.connections).flatMap((connection) => (connection.api ? [connection.api.credentials] : [])),
    ]);
    const secretArns = (refs: Set<string>) => [...refs].sort().map((ref) => secrets.get(ref)!.ref);

    // ---- Function environment (no secret values: only where to find them).
    const environment: Record<string, string> = {
      GUEST_SYNC_TABLE: this.table.tableName,
      GUEST_SYNC_QUEUE_URL: this.queue.queueUrl,
      GUEST_SYNC_CONFIG: LAMBDA_CONFIG_PATH,
      GUEST_SYNC_SECRETS: 'secretsmanager',
      GUEST_SYNC_SECRET_PREFIX: secretPrefix,
      POWERTOOLS_SERVICE_NAME: 'guest-sync',
      POWERTOOLS_METRICS_NAMESPACE: 'GuestSync',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      // Not --enable-source-maps: it reads the bundle's map at every cold start (about 18 ms of
      // ingest's 355), and our logs carry error messages, never stacks (docs/runbook.md).
      NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
      GUEST_SYNC_CONFIG_CACHE_SECONDS: String(CONFIG_CACHE_SECONDS),
    };

    // ---- ingest: HTTP API -> function -> queue.
    const ingestLogs = new LogGroup(this, 'IngestLogGroup', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Own roles (instead of AWSLambdaBasicExecutionRole) so each can only write its own log group.
    this.ingestRole = new Role(this, 'IngestRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `guest-sync ${this.stage} ingest function`,
    });
    ingestLogs.grantWrite(this.ingestRole);
    this.ingestRole.addToPolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    // Ingest reads the active config item (config without redeploy) and nothing else in the table.
    this.ingestRole.addToPolicy(itemsUnder(this.table.tableArn, ['dynamodb:GetItem'], [CONFIG_ITEM_KEY.pk]));
    // A connection in a burst: ingest parks its messages and takes the drain's lease (parking.ts), under PARK# keys only.
    this.ingestRole.addToPolicy(itemsUnder(this.table.tableArn, ['dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'], [PARKED_PK_PATTERN]));
    if (connectionSecretRefs.size > 0) {
      this.ingestRole.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['secretsmanager:GetSecretValue'],
          resources: secretArns(connectionSecretRefs),
        }),
      );
    }
    this.ingestFunction = new Function(this, 'IngestFunction', {
      ...functionCode('ingest', configPath),
      description: `guest-sync ${this.stage}: verify, normalise and enqueue PMS webhooks`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: INGEST_MEMORY_MB,
      timeout: INGEST_TIMEOUT,
      role: this.ingestRole,
      logGroup: ingestLogs,
      environment,
      // Behind a Function URL this stands in for the HTTP API's stage throttling (docs/deploy.md).
      ...(props.ingress === 'functionUrl' && props.ingestReservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.ingestReservedConcurrency } : {}),
    });

    // ---- sync: queue -> function -> DynamoDB + targets.
    const syncLogs = new LogGroup(this, 'SyncLogGroup', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.syncRole = new Role(this, 'SyncRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `guest-sync ${this.stage} sync function`,
    });
    syncLogs.grantWrite(this.syncRole);
    this.syncRole.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          // The trace's steps are written together at the end of an invocation; a drain deletes a parked turn at once.
          'dynamodb:BatchWriteItem',
          'dynamodb:Query',
          // Reconciliation reads every stored reservation of a connection (once a day by default).
          'dynamodb:Scan',
        ],
        // Sync reads items by key (and scans the table to reconcile); the `due` index is the sweep's.
        resources: [this.table.tableArn],
      }),
    );
    // Backfill queues what it reads (and its next page), reconciliation its repairs (resyncs).
    this.syncRole.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
    // Sync hands a target's work to its lane, and backs off lane messages like any other.
    for (const lane of Object.values(this.laneQueues)) this.syncRole.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['sqs:SendMessage', 'sqs:ChangeMessageVisibility'], resources: [lane.queueArn] }));
    // A message no release can read is set aside in the DLQ by sync itself, on its first receive.
    this.syncRole.addToPolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
    if (targetSecretRefs.size > 0) {
      this.syncRole.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['secretsmanager:GetSecretValue'],
          resources: secretArns(targetSecretRefs),
        }),
      );
    }
    this.syncFunction = new Function(this, 'SyncFunction', {
      ...functionCode('sync', configPath),
      description: `guest-sync ${this.stage}: apply queued reservation events to the guest tools`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: SYNC_MEMORY_MB,
      timeout: SYNC_TIMEOUT,
      role: this.syncRole,
      logGroup: syncLogs,
      environment: {
        ...environment,
        GUEST_SYNC_DLQ_URL: this.deadLetterQueue.queueUrl,
        GUEST_SYNC_LANE_QUEUE_URLS: Stack.of(this).toJsonString(Object.fromEntries(Object.entries(this.laneQueues).map(([name, lane]) => [name, lane.queueUrl]))),
      },
    });
    // The event source grants the role `grantConsumeMessages` on the queue: ReceiveMessage,
    // DeleteMessage, GetQueueAttributes, GetQueueUrl and ChangeMessageVisibility (which the
    // function also uses itself to back off a message).
    this.syncFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: SYNC_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency,
      }),
    );
    // A lane's workers pace themselves by the target's account rate; two keep it busy between batches.
    for (const lane of Object.values(this.laneQueues)) {
      this.syncFunction.addEventSource(new SqsEventSource(lane, { batchSize: SYNC_BATCH_SIZE, reportBatchItemFailures: true, maxConcurrency: LANE_MAX_CONCURRENCY }));
    }

    // ---- sweep: schedule -> function -> due index -> queue (resync messages).
    const sweepLogs = new LogGroup(this, 'SweepLogGroup', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.sweepRole = new Role(this, 'SweepRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `guest-sync ${this.stage} sweep function`,
    });
    sweepLogs.grantWrite(this.sweepRole);
    // Least privilege: query the due index (keys only, no guest data) and send to the queue.
    this.sweepRole.addToPolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['dynamodb:Query'], resources: [`${this.table.tableArn}/index/${DUE_INDEX}`] }),
    );
    this.sweepRole.addToPolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    // It restarts a drain of parked messages whose chain died: looks for parked keys, takes the drain's lease.
    this.sweepRole.addToPolicy(itemsUnder(this.table.tableArn, ['dynamodb:Query', 'dynamodb:UpdateItem'], [PARKED_PK_PATTERN]));
    // The sweep reads the active config item (which targets exist) and nothing else in the table.
    this.sweepRole.addToPolicy(itemsUnder(this.table.tableArn, ['dynamodb:GetItem'], [CONFIG_ITEM_KEY.pk]));
    this.sweepFunction = new Function(this, 'SweepFunction', {
      ...functionCode('sweep', configPath),
      description: `guest-sync ${this.stage}: re-enqueue reservations whose target work is due (paused targets, RecepAI check-in/out)`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: SWEEP_MEMORY_MB,
      timeout: SWEEP_TIMEOUT,
      role: this.sweepRole,
      logGroup: sweepLogs,
      environment,
    });
    this.sweepSchedule = new Rule(this, 'SweepSchedule', {
      description: `guest-sync ${this.stage}: run the sweep`,
      schedule: Schedule.rate(SWEEP_INTERVAL),
      // A missed run is made up by the next one: due work stays due until it is done.
      targets: [new LambdaFunction(this.sweepFunction, { retryAttempts: 2, maxEventAge: Duration.minutes(5) })],
    });
    // Reconciliation of every connection: the sweep queues it, the sync worker runs it (docs/runbook.md).
    this.reconcileSchedule = new Rule(this, 'ReconcileSchedule', {
      description: `guest-sync ${this.stage}: reconcile the targets with what guest-sync applied`,
      schedule: Schedule.expression(props.reconcileSchedule ?? DEFAULT_RECONCILE_SCHEDULE),
      targets: [new LambdaFunction(this.sweepFunction, { event: RuleTargetInput.fromObject({ reconcile: true }), retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });

    // ---- Webhook ingress: the HTTP API (default) or the ingest function's URL. Both deliver payload 2.0.
    this.ingress = props.ingress ?? 'httpApi';
    let webhookBase: string;
    if (this.ingress === 'httpApi') {
      // HTTP API (payload format 2.0), with access logs and stage throttling.
      const accessLogs = new LogGroup(this, 'ApiAccessLogGroup', {
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      this.httpApi = new HttpApi(this, 'WebhookApi', {
        apiName: `guest-sync-${this.stage}`,
        description: `guest-sync ${this.stage}: PMS webhook receiver`,
        createDefaultStage: false,
      });
      this.httpStage = new HttpStage(this, 'WebhookApiStage', {
        httpApi: this.httpApi,
        stageName: '$default',
        autoDeploy: true,
        // Applies to every route (the stage's default route settings); sizing: see the top of this file.
        throttle: { rateLimit: API_RATE_LIMIT, burstLimit: API_BURST_LIMIT },
        accessLogSettings: {
          destination: new LogGroupLogDestination(accessLogs),
          format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        },
      });
      const ingestIntegration = new HttpLambdaIntegration('IngestIntegration', this.ingestFunction, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      });
      this.webhookRoutes = [WEBHOOK_ROUTE_PATH, WEBHOOK_TOKEN_ROUTE_PATH].flatMap((path) =>
        this.httpApi!.addRoutes({ path, methods: [HttpMethod.POST], integration: ingestIntegration }),
      );
      webhookBase = this.httpStage.url;
    } else {
      // Any method and path reach the handler: it answers 405 and 404 itself.
      this.webhookRoutes = [];
      this.functionUrl = this.ingestFunction.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
      webhookBase = this.functionUrl.url;
    }

    // ---- Alarms (to the SNS topic) and dashboard: see infra/monitoring.ts.
    const oneMinute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    const monitoring = this.monitoring;
    const dlqDepth = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: oneMinute, statistic: 'Maximum' });
    // Redriven messages do not count in the DLQ's NumberOfMessagesSent, so arrivals are the rises in its depth.
    const dlqArrivals = new MathExpression({
      expression: 'IF(DIFF(dlq) > 0, DIFF(dlq), 0)',
      usingMetrics: { dlq: dlqDepth },
      label: 'DLQ arrivals',
      period: oneMinute,
    });
    const oldestMessageAge = this.queue.metricApproximateAgeOfOldestMessage({ period: oneMinute, statistic: 'Maximum' });
    const laneOldest = Object.entries(this.laneQueues).map(([name, lane]) => lane.metricApproximateAgeOfOldestMessage({ period: oneMinute, statistic: 'Maximum', label: `lane ${name}: oldest` }));
    const api5xx = this.httpApi
      ? this.httpApi.metricServerError({ period: fiveMinutes, statistic: 'Sum' })
      : this.ingestFunction.metric('Url5xxCount', { period: fiveMinutes, statistic: 'Sum' });
    monitoring.alarm('DeadLetterQueueNotEmpty', dlqDepth, ALARM_THRESHOLDS.deadLetterMessages, 'Messages in the DLQ: events that could not be processed at all. Inspect them, fix the cause, replay.');
    monitoring.alarm(
      'QueueOldestMessageAge',
      oldestMessageAge,
      ALARM_THRESHOLDS.oldestMessageAgeSeconds,
      'The oldest queued reservation event is over 30 minutes old: sync is stuck or far behind.',
    );
    for (const [name, lane] of Object.entries(this.laneQueues)) {
      monitoring.alarm(
        `${name.charAt(0).toUpperCase()}${name.slice(1)}LaneBehind`,
        lane.metricApproximateAgeOfOldestMessage({ period: oneMinute, statistic: 'Maximum' }),
        ALARM_THRESHOLDS.oldestMessageAgeSeconds,
        `The oldest work in the ${name} lane is over 30 minutes old: ${name} is far behind (its rate, a pause) or its lane is stuck.`,
        'lane-behind',
      );
    }
    monitoring.alarm(
      'UnreadableMessages',
      monitoring.appMetric('MessageUnparseable', {}, 'Sum'),
      1,
      'Sync set aside a queue message it cannot read (a release mismatch or a bug): it is in the DLQ with its reason.',
    );
    monitoring.alarm('Api5xx', api5xx, ALARM_THRESHOLDS.api5xx, 'The webhook API answered 5xx (ingest failed or could not enqueue): PMSs retry, some give up.');

    monitoring.dashboard.addWidgets(
      new GraphWidget({
        title: this.httpApi ? 'Ingest: webhook API' : 'Ingest: function URL',
        left: this.httpApi
          ? [this.httpApi.metricCount({ period: fiveMinutes, statistic: 'Sum' }), this.httpApi.metricClientError({ period: fiveMinutes, statistic: 'Sum' }), api5xx]
          : [this.ingestFunction.metric('UrlRequestCount', { period: fiveMinutes, statistic: 'Sum', label: 'requests' }), this.ingestFunction.metric('Url4xxCount', { period: fiveMinutes, statistic: 'Sum', label: '4xx' }), api5xx],
        right: [this.httpApi ? this.httpApi.metricLatency({ period: fiveMinutes, statistic: 'p99' }) : this.ingestFunction.metric('UrlRequestLatency', { period: fiveMinutes, statistic: 'p99', label: 'latency p99' })],
        width: 12,
      }),
      new GraphWidget({
        title: 'Ingest: webhooks by outcome',
        // Each delivery is counted once, by its outcome: together they are what was received.
        left: [
          monitoring.search('WebhookAccepted', ['source'], {}, 'accepted:'),
          monitoring.search('WebhookIgnored', ['source', 'reason'], {}, 'ignored:'),
          monitoring.search('WebhookRejected', ['source', 'reason'], {}, 'rejected:'),
          monitoring.search('WebhookFailed', ['source'], {}, 'failed (5xx):'),
        ],
        // A connection in a burst is parked, then moved to the queue in turns (docs/throughput.md).
        right: [monitoring.search('MessagesEnqueued', ['source'], {}, 'enqueued:'), monitoring.appMetric('MessagesEnqueued', {}, 'Sum', 'enqueued by the sweep'), monitoring.appMetric('MessagesParked', {}, 'Sum', 'parked (burst)'), monitoring.appMetric('ParkedMessagesMoved', {}, 'Sum', 'moved from parked')],
        width: 12,
      }),
      new GraphWidget({
        title: 'Queue',
        left: [
          this.queue.metricApproximateNumberOfMessagesVisible({ period: oneMinute, statistic: 'Maximum', label: 'waiting' }),
          this.queue.metricApproximateNumberOfMessagesNotVisible({ period: oneMinute, statistic: 'Maximum', label: 'in flight / backing off' }),
        ],
        right: [oldestMessageAge],
        width: 12,
      }),
      new GraphWidget({
        title: 'Target lanes',
        left: Object.entries(this.laneQueues).map(([name, lane]) => lane.metricApproximateNumberOfMessagesVisible({ period: oneMinute, statistic: 'Maximum', label: `lane ${name}: waiting` })),
        right: [...laneOldest, monitoring.search('TargetHandedOff', ['target'], {}, 'handed off:')],
        width: 12,
      }),
      new GraphWidget({
        title: 'Dead-letter queue',
        left: [dlqDepth.with({ label: 'DLQ depth' }), dlqArrivals],
        right: [monitoring.appMetric('MessageUnparseable', {}, 'Sum', 'unparseable messages')],
        width: 12,
      }),
    );
    monitoring.monitorFunction('Ingest', this.ingestFunction);
    monitoring.monitorFunction('Sync', this.syncFunction);
    monitoring.monitorFunction('Sweep', this.sweepFunction);
    monitoring.addSourceWidgets();
    monitoring.addTargetWidgetsAndAlarms();
    // The docs/logs-insights.md query, live: which reservations fail, and how.
    monitoring.dashboard.addWidgets(
      new LogQueryWidget({
        title: 'Errors by reservation (logs)',
        logGroupNames: [ingestLogs.logGroupName, syncLogs.logGroupName, sweepLogs.logGroupName],
        queryLines: [
          'fields @timestamp, level, message, connectionId, reservationId, target, code',
          'filter level = "ERROR" or level = "WARN"',
          'stats count(*) as problems, latest(code) as lastCode, latest(message) as lastMessage by connectionId, reservationId',
          'sort problems desc',
          'limit 20',
        ],
        width: 24,
        height: 6,
      }),
    );

    // ---- Outputs.
    new CfnOutput(this, 'WebhookUrl', {
      description: 'POST PMS webhooks here, replacing {connectionId} with a connection id from the config',
      value: `${webhookBase}webhooks/{connectionId}`,
    });
    new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'SecretPrefix', { value: secretPrefix });
    new CfnOutput(this, 'DashboardName', { value: `guest-sync-${this.stage}` });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    // Paste into a shell (with AWS credentials for this account) to point `npx guest-sync` at this stack.
    new CfnOutput(this, 'OperatorEnv', {
      description: 'export lines for the operator CLI (npx guest-sync); see docs/runbook.md',
      value: [
        `export AWS_REGION=${this.region}`,
        `GUEST_SYNC_TABLE=${this.table.tableName}`,
        `GUEST_SYNC_QUEUE_URL=${this.queue.queueUrl}`,
        `GUEST_SYNC_DLQ_URL=${this.deadLetterQueue.queueUrl}`,
        'GUEST_SYNC_SECRETS=secretsmanager',
        `GUEST_SYNC_SECRET_PREFIX=${secretPrefix}`,
      ].join(' '),
    });
  }
}

/**
 * `actions` on the table's items whose partition key is one of `keys` (IAM's LeadingKeys
 * condition; a key with `*` is a pattern), and on nothing else in it.
 */
function itemsUnder(tableArn: string, actions: string[], keys: string[]): PolicyStatement {
  const operator = keys.some((key) => key.includes('*')) ? 'ForAllValues:StringLike' : 'ForAllValues:StringEquals';
  return new PolicyStatement({ effect: Effect.ALLOW, actions, resources: [tableArn], conditions: { [operator]: { 'dynamodb:LeadingKeys': keys } } });
}
