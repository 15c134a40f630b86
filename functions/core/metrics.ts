/**
 * Application metrics as CloudWatch Embedded Metric Format (EMF), collected during an invocation
 * and written once at its end: one stdout line holds every count and timing of the invocation,
 * whatever their dimensions (a webhook's `source`, a rejection's `reason`, a target's name).
 *
 * Why not Powertools Metrics: it keeps one dimension set per flush, so every dimensioned count
 * needed its own `singleMetric()` (a new instance reading the environment, a new Console, one
 * write), which was a third of the ingest hot path. The output is the same EMF Powertools wrote:
 * namespace from POWERTOOLS_METRICS_NAMESPACE, a `service` dimension on every series
 * (POWERTOOLS_SERVICE_NAME), off when POWERTOOLS_METRICS_DISABLED is true (or, unset, POWERTOOLS_DEV).
 */

type Unit = 'Count' | 'Milliseconds' | 'Seconds';

interface Series {
  /** The series' key: name, unit and dimension values. */
  id: string;
  name: string;
  unit: Unit;
  dimensions: Record<string, string>;
  values: number[];
}

/** EMF limits per document: 100 metrics, 100 values per metric; dimension keys are ours (≤ 3). */
const MAX_METRICS_PER_DOCUMENT = 100;
const MAX_VALUES_PER_METRIC = 100;
/** Line templates kept per batch: an invocation writes one or a few shapes, sync's targets a few dozen. */
const MAX_TEMPLATES = 256;

const truthy = (value: string | undefined) => ['1', 'true', 'yes', 'on', 'y'].includes((value ?? '').trim().toLowerCase());

export interface MetricsOptions {
  namespace: string;
  service: string;
  disabled: boolean;
  write: (line: string) => void;
}

export function metricsOptionsFromEnv(env: NodeJS.ProcessEnv): MetricsOptions {
  const disabledSetting = env.POWERTOOLS_METRICS_DISABLED;
  return {
    namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? 'GuestSync',
    service: env.POWERTOOLS_SERVICE_NAME ?? 'guest-sync',
    disabled: disabledSetting !== undefined ? truthy(disabledSetting) : truthy(env.POWERTOOLS_DEV),
    write: (line) => void process.stdout.write(`${line}\n`),
  };
}

export class MetricsBatch {
  // Keyed by name and dimension values: counts add up, timings keep each value (EMF value arrays).
  private readonly series = new Map<string, Series>();
  // A line's text around its values, by the shape of its document: the same webhook or batch
  // writes the same shape every time, so a flush serialises only the time and the values.
  private readonly templates = new Map<string, string[]>();

  constructor(private readonly options: MetricsOptions) {}

  count(name: string, dimensions: Record<string, string> = {}, value = 1): void {
    if (this.options.disabled) return;
    const one = this.seriesOf(name, 'Count', dimensions);
    if (one.values.length === 0) one.values.push(value);
    else one.values[0]! += value;
  }

  timing(name: string, milliseconds: number, dimensions: Record<string, string> = {}): void {
    if (this.options.disabled) return;
    this.seriesOf(name, 'Milliseconds', dimensions).values.push(Math.round(milliseconds * 1000) / 1000);
  }

  /** A level in seconds, e.g. how long a target has been behind; each value is kept (alarms take the maximum). */
  seconds(name: string, seconds: number, dimensions: Record<string, string> = {}): void {
    if (this.options.disabled) return;
    this.seriesOf(name, 'Seconds', dimensions).values.push(Math.round(seconds));
  }

  /** Writes what was collected (as few EMF lines as the dimensions allow, usually one) and starts over. */
  flush(at = Date.now()): void {
    if (this.series.size === 0) return;
    const all: Series[] = [];
    for (const one of this.series.values()) all.push(...chunked(one));
    this.series.clear();
    for (const document of pack(all)) this.options.write(this.line(document, at));
  }

  /** The document's EMF line: its template (made once per shape) filled with the time and the values. */
  private line(document: Series[], at: number): string {
    let shape = '';
    for (const one of document) shape += `${one.id}\u0001`;
    let template = this.templates.get(shape);
    if (!template) {
      template = templateOf(this.emf(document, TIME_HOLE, (i) => `${VALUE_HOLE}${i}`));
      // A dimension value that looks like a hole would misplace the values: such a line is written whole.
      if (template.length !== 2 * document.length + 3) return JSON.stringify(this.emf(document, at, (i) => valueOf(document[i]!.values)));
      if (this.templates.size >= MAX_TEMPLATES) this.templates.clear();
      this.templates.set(shape, template);
    }
    let text = template[0]!;
    for (let i = 1; i < template.length; i += 2) {
      const hole = template[i]!;
      text += hole === 't' ? String(at) : valueText(document[Number(hole)]!.values);
      text += template[i + 1]!;
    }
    return text;
  }

  private seriesOf(name: string, unit: Unit, dimensions: Record<string, string>): Series {
    // Called for every count: a plain loop, no closures (the bundle names each closure it creates).
    const keys = Object.keys(dimensions);
    if (keys.length > 1) keys.sort();
    let id = `${name}\u0000${unit}`;
    for (const k of keys) id += `\u0000${k}=${dimensions[k]}`;
    let one = this.series.get(id);
    if (!one) this.series.set(id, (one = { id, name, unit, dimensions: { ...dimensions }, values: [] }));
    return one;
  }

  private emf(document: Series[], at: number | string, valueAt: (index: number) => unknown): Record<string, unknown> {
    const directives = new Map<string, { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: Unit }[] }>();
    const body: Record<string, unknown> = { service: this.options.service };
    for (const [index, one] of document.entries()) {
      const keys = Object.keys(one.dimensions);
      if (keys.length > 1) keys.sort();
      keys.unshift('service');
      const setId = keys.join('\u0000');
      let directive = directives.get(setId);
      if (!directive) directives.set(setId, (directive = { Namespace: this.options.namespace, Dimensions: [keys], Metrics: [] }));
      directive.Metrics.push({ Name: one.name, Unit: one.unit });
      Object.assign(body, one.dimensions);
      body[one.name] = valueAt(index);
    }
    return { _aws: { Timestamp: at, CloudWatchMetrics: [...directives.values()] }, ...body };
  }
}

// Placeholders in a template's JSON: strings our metrics and dimensions do not hold (a line whose
// dimension values look like one is written whole, MetricsBatch.line).
const TIME_HOLE = '\u0000t';
const VALUE_HOLE = '\u0000v';

/** A line's JSON split at its holes: text, hole, text, …; a hole is `t` (the time) or a series' index in its document. */
function templateOf(emf: Record<string, unknown>): string[] {
  return JSON.stringify(emf).split(/"\\u0000(t|v\d+)"/).map((part, i) => (i % 2 === 1 && part !== 't' ? part.slice(1) : part));
}

/** A metric's value: one value alone, several as an array (EMF value arrays). */
function valueOf(values: number[]): number | number[] {
  return values.length === 1 ? values[0]! : values;
}

function valueText(values: number[]): string {
  return JSON.stringify(valueOf(values));
}

/** A timing with more values than one EMF metric may hold becomes several series (several lines). */
function chunked(one: Series): Series[] {
  if (one.values.length <= MAX_VALUES_PER_METRIC) return [one];
  const out: Series[] = [];
  for (let i = 0; i < one.values.length; i += MAX_VALUES_PER_METRIC) out.push({ ...one, values: one.values.slice(i, i + MAX_VALUES_PER_METRIC) });
  return out;
}

/**
 * Greedy packing into EMF documents: in one document a metric name is one top-level key and a
 * dimension key has one value, so a series that would clash goes to the next document.
 */
function pack(all: Series[]): Series[][] {
  const documents: EmfDocument[] = [];
  for (const one of all) {
    let document: EmfDocument | undefined;
    for (const d of documents) {
      if (fits(d, one)) {
        document = d;
        break;
      }
    }
    if (!document) documents.push((document = { series: [], names: new Set(), dimensions: new Map() }));
    document.series.push(one);
    document.names.add(one.name);
    for (const k in one.dimensions) document.dimensions.set(k, one.dimensions[k]!);
  }
  return documents.map((d) => d.series);
}

interface EmfDocument {
  series: Series[];
  names: Set<string>;
  dimensions: Map<string, string>;
}

function fits(d: EmfDocument, one: Series): boolean {
  if (d.series.length >= MAX_METRICS_PER_DOCUMENT || d.names.has(one.name) || d.dimensions.has(one.name)) return false;
  for (const k in one.dimensions) {
    const v = one.dimensions[k]!;
    if (d.names.has(k) || (d.dimensions.get(k) ?? v) !== v) return false;
  }
  return true;
}
