/** Labels of one sample, e.g. { state: "running" }. */
export type Labels = Record<string, string>;

interface Family {
  type: "counter" | "gauge" | "summary";
  help: string;
  samples: Map<string, { labels: Labels; value: number; sum?: number }>;
}

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort());
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

/**
 * A small metrics registry rendered in Prometheus' text format: counters and summaries (sum and
 * count) recorded as things happen, gauges set when scraped.
 * @example metrics.observe("cube_api_request_duration_seconds", "API latency", { route: "/v1/jobs" }, 0.004)
 */
export class Metrics {
  private readonly families = new Map<string, Family>();

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const sample = this.sample(name, "counter", help, labels);
    sample.value += by;
  }

  observe(name: string, help: string, labels: Labels, value: number): void {
    const sample = this.sample(name, "summary", help, labels);
    sample.value += 1;
    sample.sum = (sample.sum ?? 0) + value;
  }

  /** Replaces a gauge's samples with the current values. */
  gauge(name: string, help: string, values: [Labels, number][]): void {
    const family: Family = { type: "gauge", help, samples: new Map() };
    for (const [labels, value] of values) family.samples.set(key(labels), { labels, value });
    this.families.set(name, family);
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const { labels, value, sum } of family.samples.values()) {
        if (family.type === "summary") {
          lines.push(`${name}_sum${labelText(labels)} ${sum ?? 0}`, `${name}_count${labelText(labels)} ${value}`);
        } else lines.push(`${name}${labelText(labels)} ${value}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }

  private sample(name: string, type: Family["type"], help: string, labels: Labels) {
    let family = this.families.get(name);
    if (!family) this.families.set(name, (family = { type, help, samples: new Map() }));
    const k = key(labels);
    let sample = family.samples.get(k);
    if (!sample) family.samples.set(k, (sample = { labels, value: 0 }));
    return sample;
  }
}
