interface Props {
  value: number;
  label: string;
  compact?: boolean;
}

/** A progress bar with a visible percentage; `value` in [0, 1]. */
export default function ProgressBar({ value, label, compact }: Props) {
  const pct = Math.round(Math.min(1, Math.max(0, value || 0)) * 100);
  return (
    <div className={compact ? 'progress progress--compact' : 'progress'}>
      <div className="progress__track" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
        <div className="progress__fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="progress__text">{pct}%</span>
    </div>
  );
}
