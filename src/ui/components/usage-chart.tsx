import { HISTORY_WINDOW_MS, SAMPLE_PERIOD_MS, type UsageSample } from "../../manager/usage-history.ts";

export interface UsageChartProps {
  /** What is charted, for the caption and screen readers: "CPU", "Memory". */
  label: string;
  samples: readonly UsageSample[];
  value: (sample: UsageSample) => number;
  /** The top of the chart: 100 for a percent, the node's capacity for memory. */
  max: number;
  format: (value: number) => string;
  now: number;
  /** A sparkline for table cells, or a full chart with its caption. */
  small?: boolean;
}

const WIDTH = 300;
const HEIGHT = 60;
/** Samples further apart than this were missed heartbeats: the line breaks there instead of bridging the gap. */
const GAP_MS = 3 * SAMPLE_PERIOD_MS;

/** Usage over the last minutes as inline SVG polylines: no script, no library, scales to its box. */
export function UsageChart({ label, samples, value, max, format, now, small = false }: UsageChartProps) {
  const start = now - HISTORY_WINDOW_MS;
  const visible = samples.filter((s) => s.at >= start);
  const latest = visible.at(-1);
  const peak = visible.reduce((m, s) => Math.max(m, value(s)), 0);
  const summary = latest
    ? `${label} over the last ${HISTORY_WINDOW_MS / 60_000} minutes: now ${format(value(latest))}, peak ${format(peak)}`
    : `${label}: no samples yet`;
  const svg = (
    <svg class={small ? "chart chart-small" : "chart"} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={summary}>
      <line class="chart-grid" x1="0" x2={WIDTH} y1={HEIGHT / 2} y2={HEIGHT / 2} />
      {segments(visible, start).map((segment) => (
        <polyline
          points={segment.map((s) => `${x(s.at, start)},${y(value(s), max)}`).join(" ")}
          vector-effect="non-scaling-stroke"
        />
      ))}
    </svg>
  );
  if (small) return svg;
  return (
    <figure class="chart-figure">
      <div class="chart-axis" aria-hidden="true">
        <span>{format(max)}</span>
      </div>
      {svg}
      <div class="chart-axis" aria-hidden="true">
        <span>{HISTORY_WINDOW_MS / 60_000} min ago</span>
        <span>now</span>
      </div>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}

function x(at: number, start: number): number {
  return Math.round(((at - start) / HISTORY_WINDOW_MS) * WIDTH * 10) / 10;
}

function y(value: number, max: number): number {
  const share = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  return Math.round((1 - share) * (HEIGHT - 2) * 10) / 10 + 1;
}

/** Runs of samples without a gap; a lone sample is drawn as a flat stub so it still shows. */
function segments(samples: readonly UsageSample[], start: number): UsageSample[][] {
  const runs: UsageSample[][] = [];
  for (const sample of samples) {
    const run = runs.at(-1);
    const last = run?.at(-1);
    if (run && last && sample.at - last.at <= GAP_MS) run.push(sample);
    else runs.push([sample]);
  }
  return runs.map((run) => (run.length === 1 && run[0] ? [{ ...run[0], at: Math.max(start, run[0].at - SAMPLE_PERIOD_MS) }, run[0]] : run));
}
