import { percent } from "../format.ts";

export interface UsageBarProps {
  label: string;
  used: number;
  total: number;
  format: (value: number) => string;
}

/** "CPU allocated: 0.75 of 12 cores (6%)" with a bar; the text says it all, the bar is for the eye. */
export function UsageBar({ label, used, total, format }: UsageBarProps) {
  const share = percent(used, total);
  return (
    <div class="usage">
      <div class="usage-text">
        <span>{label}</span>
        <span>
          {format(used)} of {format(total)} ({share}%)
        </span>
      </div>
      <div class="bar" aria-hidden="true">
        <span style={`width:${Math.min(100, share)}%`} />
      </div>
    </div>
  );
}
