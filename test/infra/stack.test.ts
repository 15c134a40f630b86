import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, secretRefs, validatedConfigFile, type Config } from '../../functions/core/config.ts';
import { BUNDLED_CONFIG_FILE, esbuildOptionsFor, projectRoot } from '../../infra/bundling.ts';
import { acknowledgeNagFindings, runNag } from '../../infra/nag.ts';
import { GuestSyncStack, IAM_WILDCARD_ACTIONS_ON_LOG_GROUPS } from '../../infra/stack.ts';

const CONFIG_PATH = join(projectRoot, 'config', 'guest-sync.example.json');
const SECRETS_EXAMPLE = join(projectRoot, 'config', 'secrets.example.json');
const STAGE = 'test';
const MAX_CONCURRENCY = 7;

type Json = Record<string, any>;

/** A fresh app that skips esbuild bundling (unit tests check the template, not the bundles). */
function newApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

function newStack(app: App, props: Partial<ConstructorParameters<typeof GuestSyncStack>[2]> = {}): GuestSyncStack {
  return new GuestSyncStack(app, `GuestSync-${props.stage ?? STAGE}`, {
    stage: STAGE,
    configPath: CONFIG_PATH,
    maxConcurrency: MAX_CONCURRENCY,
    ...props,
  });
}

/** Every string leaf of a JSON value. */
function stringLeaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringLeaves);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringLeaves);
  return [];
}

function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

describe('GuestSyncStack', () => {
  let stack: GuestSyncStack;
  let template: Template;
  let resources: Record<string, Json>;
  let config: Config;
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnResource);
  const ofType = (type: string) =>
    Object.entries(resources).filter(([, resource]) => resource.Type === type) as Array<[string, Json]>;
  const policyStatementsOf = (role: { node: { defaultChild?: unknown } }): Json[] => {
    const roleId = logicalId(role);
    return ofType('AWS::IAM::Policy')
      .filter(([, policy]) => (policy.Properties.Roles as Json[]).some((r) => r.Ref === roleId))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Json[]);
  };

  beforeAll(() => {
    const app = newApp();
    stack = newStack(app);
    acknowledgeNagFindings(stack);
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources as Record<string, Json>;
    config = loadConfigFile(CONFIG_PATH);
  });

  it('is named after the stage', () => {
    expect(stack.stackName).toBe('GuestSync-test');
  });

  it('has a FIFO queue with a FIFO DLQ: redrive after 5 receives, DLQ kept 14 days', () => {
    // The main queue, the DLQ, and a lane per configured target.
    template.resourceCountIs('AWS::SQS::Queue', 2 + Object.keys(config.targets).length);
    const dlqId = logicalId(stack.deadLetterQueue);
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 10 },
    });
    const dlq = resources[dlqId]!;
    expect(dlq.Properties).toMatchObject({ FifoQueue: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    expect(dlq.Properties.RedrivePolicy).toBeUndefined();
  });

  it('sets the queue visibility timeout to 6 x the sync timeout', () => {
    const syncTimeout = resources[logicalId(stack.syncFunction)]!.Properties.Timeout as number;
    const queue = resources[logicalId(stack.queue)]!;
    expect(syncTimeout).toBe(60);
    expect(queue.Properties.VisibilityTimeout).toBe(6 * syncTimeout);
  });

  it('has a lane per configured target: a FIFO queue like the main one, into the same DLQ, read by sync at most 2 at a time', () => {
    const dlqId = logicalId(stack.deadLetterQueue);
    expect(Object.keys(stack.laneQueues).sort()).toEqual(Object.keys(config.targets).sort());
    for (const lane of Object.values(stack.laneQueues)) {
      expect(resources[logicalId(lane)]!.Properties).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false, VisibilityTimeout: 360, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 10 } });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(lane), 'Arn'] },
        FunctionName: { Ref: logicalId(stack.syncFunction) },
      });
    }
    // Sync knows each lane's URL.
    const env = JSON.stringify(resources[logicalId(stack.syncFunction)]!.Properties.Environment.Variables.GUEST_SYNC_LANE_QUEUE_URLS);
    for (const lane of Object.values(stack.laneQueues)) expect(env).toContain(logicalId(lane));
  });

  it('feeds the sync function in batches of 10 with partial batch failures and a concurrency cap', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1 + Object.keys(config.targets).length);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: MAX_CONCURRENCY },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(stack.syncFunction) },
    });
  });

  it('defaults the concurrency cap to 5 and rejects values outside 2-1000', () => {
    const app = newApp();
    const other = newStack(app, { stage: 'other', maxConcurrency: undefined });
    Template.fromStack(other).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    expect(() => newStack(newApp(), { maxConcurrency: 1 })).toThrow(/maxConcurrency/);
  });

  it('has one on-demand table with TTL, point-in-time recovery and deletion protection', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ]),
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
    const table = ofType('AWS::DynamoDB::GlobalTable')[0]![1];
    expect(table.Properties.LocalSecondaryIndexes).toBeUndefined();
  });

  it('has one sparse keys-only index for the sweep: due work by target and due time', () => {
    const table = ofType('AWS::DynamoDB::GlobalTable')[0]![1];
    expect(table.Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'due',
        KeySchema: [
          { AttributeName: 'dueBucket', KeyType: 'HASH' },
          { AttributeName: 'dueAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]);
    expect(table.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'dueBucket', AttributeType: 'S' },
        { AttributeName: 'dueAt', AttributeType: 'N' },
      ]),
    );
  });

  it('runs the sweep every 5 minutes from EventBridge, on nodejs22.x / arm64', () => {
    const sweepId = logicalId(stack.sweepFunction);
    expect(resources[sweepId]!.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 256, Timeout: 60 });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [sweepId, 'Arn'] }, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }) })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [sweepId, 'Arn'] },
    });
    // Reconciliation: daily by default, through the sweep with {"reconcile": true}.
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [sweepId, 'Arn'] }, Input: JSON.stringify({ reconcile: true }) })],
    });
    const hourly = Template.fromStack(newStack(newApp(), { stage: 'hourly', reconcileSchedule: 'rate(1 hour)' }));
    hourly.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)', Targets: [Match.objectLike({ Input: JSON.stringify({ reconcile: true }) })] });
  });

  it('lets the sweep only query the due index, read the config item, restart drains of parked keys and send to the queue', () => {
    const statements = policyStatementsOf(stack.sweepRole);
    const actions = statements.flatMap((s) => asArray(s.Action as string | string[])).sort();
    expect(actions).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Query', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage'].sort());
    expect(statements.find((s) => s.Action === 'dynamodb:GetItem')!.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CONFIG'] } });
    // On the table itself, only the parked keys (no guest data is read from elsewhere).
    const parked = statements.find((s) => JSON.stringify(s.Action) === JSON.stringify(['dynamodb:Query', 'dynamodb:UpdateItem']))!;
    expect(parked.Resource).toEqual({ 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] });
    expect(parked.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['PARK#*'] } });
    const query = statements.find((s) => s.Action === 'dynamodb:Query')!;
    expect(query.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] }, '/index/due']] });
    const send = statements.find((s) => s.Action === 'sqs:SendMessage')!;
    expect(send.Resource).toEqual({ 'Fn::GetAtt': [logicalId(stack.queue), 'Arn'] });
  });

  it('runs every function on nodejs22.x / arm64 with the expected sizing and environment', () => {
    template.resourceCountIs('AWS::Lambda::Function', 3);
    const expected = [
      [stack.ingestFunction, 256, 10],
      [stack.syncFunction, 512, 60],
      [stack.sweepFunction, 256, 60],
    ] as const;
    for (const [fn, memory, timeout] of expected) {
      const props = resources[logicalId(fn)]!.Properties;
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: memory,
        Timeout: timeout,
      });
      expect(props.Environment.Variables).toEqual({
        GUEST_SYNC_TABLE: { Ref: logicalId(stack.table) },
        GUEST_SYNC_QUEUE_URL: { Ref: logicalId(stack.queue) },
        GUEST_SYNC_CONFIG: '/var/task/guest-sync.config.json',
        GUEST_SYNC_SECRETS: 'secretsmanager',
        GUEST_SYNC_SECRET_PREFIX: 'guest-sync/test/',
        POWERTOOLS_SERVICE_NAME: 'guest-sync',
        POWERTOOLS_METRICS_NAMESPACE: 'GuestSync',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        GUEST_SYNC_CONFIG_CACHE_SECONDS: '60',
        NODE_OPTIONS: '--experimental-async-context-frame',
        // Only sync writes to the DLQ (an unreadable message, set aside at once), and to the target lanes.
        ...(fn === stack.syncFunction ? { GUEST_SYNC_DLQ_URL: { Ref: logicalId(stack.deadLetterQueue) }, GUEST_SYNC_LANE_QUEUE_URLS: expect.anything() } : {}),
      });
    }
  });

  it('puts no secret values in the template', () => {
    const text = JSON.stringify(template.toJSON());
    // Values of the sandbox secrets file, minus its comment and the names that are also secret refs.
    const { _about: _comment, ...exampleSecrets } = JSON.parse(readFileSync(SECRETS_EXAMPLE, 'utf8')) as Json;
    const refs = new Set(secretRefs(config));
    const exampleSecretValues = stringLeaves(exampleSecrets).filter((value) => value.length >= 8 && !refs.has(value));
    expect(exampleSecretValues.length).toBeGreaterThan(0);
    for (const value of exampleSecretValues) {
      expect(text.includes(value), `secret value "${value}" found in the template`).toBe(false);
    }
    expect(text).not.toContain('{{resolve:secretsmanager');
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      for (const value of stringLeaves(fn.Properties.Environment.Variables)) {
        expect(value).not.toMatch(/whsec_|password|clientSecret/i);
      }
    }
  });

  it('creates one empty secret per secret ref of the config, named guest-sync/<stage>/<ref>', () => {
    const refs = secretRefs(config);
    expect(refs.length).toBeGreaterThan(0);
    const secrets = ofType('AWS::SecretsManager::Secret').map(([, s]) => s.Properties as Json);
    expect(secrets.map((s) => s.Name).sort()).toEqual(refs.map((ref) => `guest-sync/${STAGE}/${ref}`).sort());
    for (const secret of secrets) {
      expect(secret.SecretString).toBeUndefined();
      expect(secret.GenerateSecretString).toBeUndefined();
    }
  });

  it('routes POST /webhooks/{connectionId} (and its URL-token form) to the ingest function (payload format 2.0)', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhooks/{connectionId}' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhooks/{connectionId}/{token}' });
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 2);
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [logicalId(stack.ingestFunction), 'Arn'] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('logs no path or query string in the access log, where a URL token or personal data could be', () => {
    const stage = ofType('AWS::ApiGatewayV2::Stage')[0]![1];
    const format = String((stage.Properties.AccessLogSettings as Json).Format);
    expect(format).toContain('$context.routeKey');
    for (const leak of ['$context.path', '$context.resourcePath', 'querystring', '$context.domainName$']) expect(format.toLowerCase()).not.toContain(leak.toLowerCase());
  });

  it('grants least privilege: no wildcard actions or resources, no managed policies', () => {
    const statements = ofType('AWS::IAM::Policy').flatMap(
      ([, policy]) => policy.Properties.PolicyDocument.Statement as Json[],
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      for (const action of asArray(statement.Action as string | string[])) expect(action).not.toContain('*');
      for (const resource of asArray(statement.Resource as unknown)) expect(resource).not.toBe('*');
    }
    for (const [, role] of ofType('AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    // The documented exception (infra/stack.ts): a log group's Arn ends in ":*", for its log streams;
    // only the two log-writing actions are granted on it.
    const logGroupIds = new Set(ofType('AWS::Logs::LogGroup').map(([id]) => id));
    for (const statement of statements) {
      const resourceIds = asArray(statement.Resource as Json | Json[]).map((r) => (r['Fn::GetAtt'] as string[] | undefined)?.[0]);
      if (resourceIds.some((id) => id !== undefined && logGroupIds.has(id))) {
        expect(asArray(statement.Action as string | string[]).sort()).toEqual([...IAM_WILDCARD_ACTIONS_ON_LOG_GROUPS].sort());
      }
      // Every resource is a reference to a resource of this stack, or one joined from such a
      // reference and a literal suffix without a wildcard (the sweep's `<table>/index/due`).
      for (const resource of asArray(statement.Resource as Json | Json[])) {
        const parts: unknown[] = resource['Fn::Join'] ? (resource['Fn::Join'][1] as unknown[]) : [resource];
        for (const part of parts) {
          if (typeof part === 'string') expect(part, JSON.stringify(resource)).not.toContain('*');
          else expect((part as Json)['Fn::GetAtt'] ?? (part as Json).Ref, JSON.stringify(resource)).toBeDefined();
        }
      }
    }
    // A `*` principal only to deny (the alarm topic refuses publishing without TLS).
    for (const [, policy] of ofType('AWS::SNS::TopicPolicy')) {
      for (const statement of policy.Properties.PolicyDocument.Statement as Json[]) {
        if (statement.Principal === '*') expect(statement.Effect).toBe('Deny');
      }
    }
  });

  it('lets ingest only send to the queue, read the config item, park a burst and read connection secrets', () => {
    const statements = policyStatementsOf(stack.ingestRole);
    const actions = statements.flatMap((s) => asArray(s.Action as string | string[])).sort();
    expect(actions).toEqual(
      ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue', 'sqs:SendMessage'].sort(),
    );
    // A burst's messages and the drain's lease, under the parked keys only.
    expect(statements.find((s) => JSON.stringify(s.Action) === JSON.stringify(['dynamodb:BatchWriteItem', 'dynamodb:UpdateItem']))!.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['PARK#*'] },
    });
    // The table holds guest data; ingest may read the one config item and nothing else.
    expect(statements.find((s) => s.Action === 'dynamodb:GetItem')).toEqual({
      Action: 'dynamodb:GetItem',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] },
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CONFIG'] } },
    });
    const secretStatement = statements.find((s) => s.Action === 'secretsmanager:GetSecretValue')!;
    const expectedRefs = [...new Set(Object.values(config.connections).map((c) => c.secret))].sort();
    expect(asArray(secretStatement.Resource).map((r: Json) => r.Ref).sort()).toEqual(
      expectedRefs.map((ref) => stack.getLogicalId(stack.secrets.get(ref)!)).sort(),
    );
  });

  it('lets sync use the table, consume and back off queue messages, and read target credentials', () => {
    const statements = policyStatementsOf(stack.syncRole);
    const actionsOn = (resource: Json) =>
      statements
        .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(resource))
        .flatMap((s) => asArray(s.Action as string | string[]));
    expect(actionsOn({ 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] }).sort()).toEqual(
      // BatchWriteItem: the trace's steps at the end of an invocation, a drain's turn of parked messages.
      ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'].sort(),
    );
    const queueActions = actionsOn({ 'Fn::GetAtt': [logicalId(stack.queue), 'Arn'] });
    expect(queueActions).toContain('sqs:ChangeMessageVisibility');
    expect(queueActions).toContain('sqs:ReceiveMessage');
    expect(queueActions).toContain('sqs:DeleteMessage');
    // Backfill pages and reconciliation's repairs are queued by sync itself.
    expect(queueActions).toContain('sqs:SendMessage');
    // It sends only to the DLQ (an unreadable message, set aside on its first receive), whose URL it is given.
    expect(actionsOn({ 'Fn::GetAtt': [logicalId(stack.deadLetterQueue), 'Arn'] })).toEqual(['sqs:SendMessage']);
    // Target credentials and the PMS API credentials of notify-then-fetch connections, and nothing else.
    const apiRefs = Object.values(config.connections).flatMap((c) => (c.api ? [c.api.credentials] : []));
    expect(apiRefs.length).toBeGreaterThan(0);
    const targetRefs = [...Object.values(config.targets).flatMap((t) => (t ? [t.credentials] : [])), ...apiRefs];
    const secretResources = statements
      .filter((s) => s.Action === 'secretsmanager:GetSecretValue')
      .flatMap((s) => asArray(s.Resource).map((r: Json) => r.Ref as string));
    expect(secretResources.sort()).toEqual(
      targetRefs.map((ref) => stack.getLogicalId(stack.secrets.get(ref)!)).sort(),
    );
  });

  it('creates log groups with retention for every function and the API access log', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 4);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    for (const fn of [stack.ingestFunction, stack.syncFunction, stack.sweepFunction]) {
      expect(resources[logicalId(fn)]!.Properties.LoggingConfig.LogGroup.Ref).toMatch(/LogGroup/);
    }
  });

  const alarmNamed = (id: string): Json => {
    const found = ofType('AWS::CloudWatch::Alarm').find(([, a]) => a.Properties.AlarmName === `guest-sync-${STAGE}-${id}`);
    expect(found, `alarm ${id}`).toBeDefined();
    return found![1].Properties as Json;
  };
  const dimensionsOf = (alarm: Json) => Object.fromEntries((alarm.Dimensions as Json[]).map((d) => [d.Name, d.Value]));

  it('alarms, each with its metric, statistic and threshold, all notifying the alarm topic', () => {
    const topicRef = { Ref: logicalId(stack.monitoring.topic) };
    const expected: Array<[string, string, string, string, number, Json]> = [
      ['DeadLetterQueueNotEmpty', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 1, { QueueName: { 'Fn::GetAtt': [logicalId(stack.deadLetterQueue), 'QueueName'] } }],
      ['QueueOldestMessageAge', 'AWS/SQS', 'ApproximateAgeOfOldestMessage', 'Maximum', 1800, { QueueName: { 'Fn::GetAtt': [logicalId(stack.queue), 'QueueName'] } }],
      ['Api5xx', 'AWS/ApiGateway', '5xx', 'Sum', 1, { ApiId: { Ref: logicalId(stack.httpApi!) } }],
      ['UnreadableMessages', 'GuestSync', 'MessageUnparseable', 'Sum', 1, { service: 'guest-sync' }],
      ['IngestErrors', 'AWS/Lambda', 'Errors', 'Sum', 1, { FunctionName: { Ref: logicalId(stack.ingestFunction) } }],
      ['IngestThrottles', 'AWS/Lambda', 'Throttles', 'Sum', 1, { FunctionName: { Ref: logicalId(stack.ingestFunction) } }],
      ['SyncErrors', 'AWS/Lambda', 'Errors', 'Sum', 1, { FunctionName: { Ref: logicalId(stack.syncFunction) } }],
      ['SyncThrottles', 'AWS/Lambda', 'Throttles', 'Sum', 1, { FunctionName: { Ref: logicalId(stack.syncFunction) } }],
      ['SweepErrors', 'AWS/Lambda', 'Errors', 'Sum', 1, { FunctionName: { Ref: logicalId(stack.sweepFunction) } }],
      ['SweepThrottles', 'AWS/Lambda', 'Throttles', 'Sum', 1, { FunctionName: { Ref: logicalId(stack.sweepFunction) } }],
      // Per target the code supports.
      ...(['minut', 'recepai', 'kasify', 'hostelmate'] as const).flatMap((target): Array<[string, string, string, string, number, Json]> => {
        const id = target.charAt(0).toUpperCase() + target.slice(1);
        return [
          [`${id}PermanentFailures`, 'GuestSync', 'TargetFailedPermanent', 'Sum', 1, { service: 'guest-sync', target }],
          [`${id}AuthFailures`, 'GuestSync', 'TargetAuthFailure', 'Sum', 1, { service: 'guest-sync', target }],
          [`${id}GuestConflicts`, 'GuestSync', 'GuestConflict', 'Sum', 1, { service: 'guest-sync', target }],
          // 30 minutes by default (context laggingAlarmMinutes).
          [`${id}Lagging`, 'GuestSync', 'TargetBehindSeconds', 'Maximum', 1800, { service: 'guest-sync', target }],
          [`${id}Drift`, 'GuestSync', 'DriftRepaired', 'Sum', 5, { service: 'guest-sync', target }],
        ];
      }),
      // Per target lane (the targets of the deploy-time config).
      ...Object.entries(stack.laneQueues).map(([target, lane]): [string, string, string, string, number, Json] => [
        `${target.charAt(0).toUpperCase()}${target.slice(1)}LaneBehind`,
        'AWS/SQS',
        'ApproximateAgeOfOldestMessage',
        'Maximum',
        1800,
        { QueueName: { 'Fn::GetAtt': [logicalId(lane), 'QueueName'] } },
      ]),
    ];
    for (const [id, namespace, metricName, statistic, threshold, dimensions] of expected) {
      const alarm = alarmNamed(id);
      // A level, not a count: no data between attempts keeps the alarm's state.
      const level = id.endsWith('Lagging');
      expect(alarm, id).toMatchObject({
        Namespace: namespace,
        MetricName: metricName,
        Statistic: statistic,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: level ? 'ignore' : 'notBreaching',
        AlarmActions: [topicRef],
      });
      expect(dimensionsOf(alarm), id).toEqual(dimensions);
      expect(alarm.AlarmDescription, id).toContain('docs/runbook.md');
    }
    // Nothing else: a new alarm is added to this list on purpose.
    expect(ofType('AWS::CloudWatch::Alarm')).toHaveLength(expected.length);
  });

  it('generates per-target alarms from what the code supports, not only the deploy-time config, and per-function alarms by one call', () => {
    // A config that routes to Minut only still gets alarms for every target a later push may use.
    const dir = mkdtempSync(join(tmpdir(), 'guest-sync-infra-'));
    const minutOnly = join(dir, 'minut-only.json');
    const example = JSON.parse(readFileSync(CONFIG_PATH, 'utf8')) as Json;
    writeFileSync(minutOnly, JSON.stringify({ connections: { 'hostaway-demo': { ...example.connections['hostaway-demo'], properties: {} } }, targets: { minut: example.targets.minut } }));
    const narrow = Template.fromStack(newStack(newApp(), { stage: 'narrow', configPath: minutOnly }));
    rmSync(dir, { recursive: true, force: true });
    const narrowNames = Object.values(narrow.toJSON().Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties.AlarmName as string);
    expect(narrowNames).toEqual(expect.arrayContaining(['guest-sync-narrow-KasifyPermanentFailures', 'guest-sync-narrow-HostelmateAuthFailures']));
    // The lagging alarm's time is configurable.
    const patient = Template.fromStack(newStack(newApp(), { stage: 'patient', laggingAlarmMinutes: 90 }));
    const lagging = Object.values(patient.toJSON().Resources as Record<string, Json>).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.AlarmName === 'guest-sync-patient-MinutLagging');
    expect(lagging?.Properties).toMatchObject({ Threshold: 5400, Period: 900 });
    const app = newApp();
    const other = newStack(app, { stage: 'other' });
    // A function added later gets its alarms by one call.
    const before = other.monitoring.alarms.length;
    other.monitoring.monitorFunction('Extra', other.syncFunction);
    const after = Template.fromStack(other).toJSON().Resources as Record<string, Json>;
    const alarmNames = Object.values(after).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties.AlarmName as string);
    expect(alarmNames).toHaveLength(before + 2);
    expect(alarmNames).toEqual(expect.arrayContaining(['guest-sync-other-ExtraErrors', 'guest-sync-other-ExtraThrottles']));
  });

  it('has an alarm topic, TLS-only, with an email subscription from the AlarmEmail parameter', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'guest-sync-test-alarms' });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasParameter('AlarmEmail', { Type: 'String', Default: '' });
    template.hasResource('AWS::SNS::Subscription', {
      Condition: Match.anyValue(),
      Properties: { Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' }, TopicArn: { Ref: logicalId(stack.monitoring.topic) } },
    });
    const conditions = template.toJSON().Conditions as Json;
    expect(Object.values(conditions)).toContainEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }] });
  });

  it('has a dashboard with ingest, queue, per-function, per-source and per-target widgets', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0]!;
    expect(dashboard.Properties.DashboardName).toBe('guest-sync-test');
    // The body is a Fn::Join of strings and references; the strings are enough to read the widgets.
    const body = (dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'REF')).join('');
    const widgets = (JSON.parse(body) as { widgets: Json[] }).widgets;
    const titles = widgets.map((w) => w.properties.title as string | undefined);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Alarms',
        'Ingest: webhook API',
        'Ingest: webhooks by outcome',
        'Queue',
        'Dead-letter queue',
        'Ingest function',
        'Sync function',
        'Sweep function',
        'Source: hostaway',
        'Source: guesty',
        'Source: smily',
        'Source: generic',
        'Target: minut',
        'Target: recepai',
        'Target: kasify',
        'Target: hostelmate',
        'Errors by reservation (logs)',
      ]),
    );
    const widget = (title: string) => JSON.stringify(widgets.find((w) => w.properties.title === title)!.properties.metrics);
    expect(widget('Ingest: webhooks by outcome')).toContain('MetricName=\\"WebhookRejected\\"');
    expect(widget('Ingest: webhooks by outcome')).toContain('MessagesEnqueued');
    // A burst waits in the table, where the queue's widgets cannot see it.
    expect(widget('Ingest: webhooks by outcome')).toContain('MessagesParked');
    expect(widget('Ingest: webhooks by outcome')).toContain('ParkedMessagesMoved');
    expect(widget('Dead-letter queue')).toContain('IF(DIFF(dlq) > 0, DIFF(dlq), 0)');
    for (const metric of ['TargetSkipped', 'TargetFailedRetryable', 'TargetFailedPermanent', 'TargetRateLimited', 'TargetAuthFailure', 'TargetLatency', 'TargetSynced']) {
      expect(widget('Target: minut')).toContain(metric);
    }
    expect(widget('Target: minut')).toContain('"p99"');
    for (const metric of ['WebhookAccepted', 'WebhookIgnored', 'WebhookRejected', 'WebhookFailed', 'FetchFailed', 'ReservationUnrouted']) {
      expect(widget('Source: hostaway')).toContain(metric);
    }
    const alarmsWidget = widgets.find((w) => w.properties.title === 'Alarms')!;
    expect(alarmsWidget.properties.alarms).toHaveLength(ofType('AWS::CloudWatch::Alarm').length);
  });

  it('throttles the webhook route so a flood cannot exhaust the account\'s Lambda concurrency', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    const ingestTimeout = resources[logicalId(stack.ingestFunction)]!.Properties.Timeout as number;
    // Worst case (every call runs to its timeout) stays at or under half the default quota of 1000.
    expect(50 * ingestTimeout).toBeLessThanOrEqual(500);
  });

  it('exports what the operator CLI needs', () => {
    const outputs = template.toJSON().Outputs as Json;
    const operatorEnv = JSON.stringify(outputs.OperatorEnv.Value);
    for (const name of ['GUEST_SYNC_TABLE', 'GUEST_SYNC_QUEUE_URL', 'GUEST_SYNC_DLQ_URL', 'GUEST_SYNC_SECRETS=secretsmanager', 'GUEST_SYNC_SECRET_PREFIX=guest-sync/test/']) {
      expect(operatorEnv).toContain(name);
    }
    expect(outputs.AlarmTopicArn.Value).toEqual({ Ref: logicalId(stack.monitoring.topic) });
  });

  it('passes cdk-nag AwsSolutions with every finding acknowledged', () => {
    const report = runNag(stack);
    const findings = report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('fails cdk-nag when the acknowledgements are missing (the check is live)', () => {
    const bare = newStack(newApp(), { stage: 'bare' });
    const rules = runNag(bare).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-L1', 'AwsSolutions-SMG4', 'AwsSolutions-APIG4']));
  });
});

describe('GuestSyncStack behind a Function URL (-c ingress=functionUrl)', () => {
  const stack = newStack(newApp(), { stage: 'furl', ingress: 'functionUrl', ingestReservedConcurrency: 20 });
  acknowledgeNagFindings(stack);
  const template = Template.fromStack(stack);
  const ingestId = stack.getLogicalId(stack.ingestFunction.node.defaultChild as CfnResource);

  it('serves the ingest function at its own URL, public (PMSs cannot sign AWS requests), with no HTTP API', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', TargetFunctionArn: { 'Fn::GetAtt': [ingestId, 'Arn'] } });
    const outputs = template.toJSON().Outputs as Json;
    expect(JSON.stringify(outputs.WebhookUrl.Value)).toContain('FunctionUrl');
  });

  it('caps concurrent ingest invocations in place of the stage throttling', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 20, Description: Match.stringLikeRegexp('enqueue PMS webhooks') });
  });

  it('alarms on the URL\'s 5xx answers and graphs its requests', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp('Api5xx'), Namespace: 'AWS/Lambda', MetricName: 'Url5xxCount', Dimensions: [{ Name: 'FunctionName', Value: { Ref: ingestId } }] });
    expect(JSON.stringify(template.toJSON())).toContain('UrlRequestCount');
  });

  it('passes cdk-nag AwsSolutions with every finding acknowledged', () => {
    expect(runNag(stack).violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('GuestSyncStack input checks', () => {
  it('rejects an invalid config at synth time, naming the bad field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-sync-infra-'));
    try {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ connections: { x: { pms: 'nope', secret: 's', properties: {} } }, targets: {} }));
      expect(() => newStack(newApp(), { configPath: bad })).toThrow(/connections\.x\.pms/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a stage that cannot be part of resource names', () => {
    expect(() => newStack(newApp(), { stage: 'bad_stage' })).toThrow(/stage/);
  });
});

describe('bundling', () => {
  /** Each function's staged asset folder, once the app (bundling on) is synthesized. */
  function assetsOf(app: App, stack: GuestSyncStack): Record<'ingest' | 'sync' | 'sweep', string> {
    const assembly = app.synth();
    const resources = assembly.getStackByName(stack.stackName).template.Resources as Record<string, Json>;
    // The function's S3 key is `<asset hash>.zip`; the staged folder is `asset.<asset hash>`.
    const assetOf = (fn: { node: { defaultChild?: unknown } }) =>
      join(assembly.directory, `asset.${(resources[stack.getLogicalId(fn.node.defaultChild as CfnResource)]!.Properties.Code.S3Key as string).replace(/\.zip$/, '')}`);
    return { ingest: assetOf(stack.ingestFunction), sync: assetOf(stack.syncFunction), sweep: assetOf(stack.sweepFunction) };
  }

  it('deploys each function as npm run build builds it: handler, chunks loaded on first use, and the stage\'s config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-sync-bundling-'));
    try {
      const minutOnly = join(dir, 'minut-only.json');
      const example = JSON.parse(readFileSync(CONFIG_PATH, 'utf8')) as Json;
      writeFileSync(minutOnly, JSON.stringify({ connections: { 'hostaway-demo': { ...example.connections['hostaway-demo'], properties: {} } }, targets: { minut: example.targets.minut } }));
      // Two stages of one app, with different configs: each function gets its own asset.
      const app = new App({ outdir: join(dir, 'cdk.out') });
      const fullStack = newStack(app, { stage: 'full' });
      const narrowStack = newStack(app, { stage: 'narrow', configPath: minutOnly });
      const [full, narrow] = [assetsOf(app, fullStack), assetsOf(app, narrowStack)];
      for (const name of ['ingest', 'sync', 'sweep'] as const) {
        const files = readdirSync(full[name], { recursive: true, encoding: 'utf8' });
        expect(files, name).toContain('index.mjs');
        expect(files.filter((f) => f.startsWith('chunks') && f.endsWith('.mjs')).length, name).toBeGreaterThan(0);
        // The stage's config, as the build validated it (stamped, so the function does not validate it again).
        expect(readFileSync(join(full[name], BUNDLED_CONFIG_FILE), 'utf8')).toBe(validatedConfigFile(loadConfigFile(CONFIG_PATH)));
        expect(readFileSync(join(narrow[name], BUNDLED_CONFIG_FILE), 'utf8')).toBe(validatedConfigFile(loadConfigFile(minutOnly)));
        expect(loadConfigFile(join(narrow[name], BUNDLED_CONFIG_FILE))).toEqual(loadConfigFile(minutOnly));
        expect(readFileSync(join(narrow[name], 'index.mjs'), 'utf8')).toBe(readFileSync(join(full[name], 'index.mjs'), 'utf8'));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds with the settings the cold-start figures rely on', () => {
    const options = esbuildOptionsFor('functions/ingest/handler.ts', 'dist/ingest');
    expect(options).toMatchObject({ format: 'esm', target: 'node22', splitting: true, outExtension: { '.js': '.mjs' }, minify: true, keepNames: false, external: [] });
    expect(options.banner?.js).toContain('createRequire');
    // node:http through the shim, which skips Node's ESM facade (and its undici).
    expect(options.alias).toEqual({ 'node:http': join(projectRoot, 'infra', 'shims', 'node-http.ts') });
  });
});
