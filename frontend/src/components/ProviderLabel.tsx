interface Props {
  provider: string;
  model?: string | null;
  label?: string | null;
  isBaseline?: boolean;
}

/** Provider and model; a baseline run is marked as such everywhere it shows. */
export default function ProviderLabel({ provider, model, label, isBaseline }: Props) {
  const baseline = isBaseline ?? provider === 'baseline';
  if (baseline) {
    return (
      <span className="provider">
        <span className="badge badge--baseline">baseline</span> {(label ?? 'kNN, no LLM').replace(/^baseline\s*/i, '')}
      </span>
    );
  }
  return (
    <span className="provider">
      {label ?? provider}
      {model && !(label ?? '').includes(model) ? <span className="muted"> · {model}</span> : null}
    </span>
  );
}
