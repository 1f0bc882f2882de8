interface Props {
  status: string;
}

/** Coloured pill for a task or sample status; the text is always shown, colour is only a hint. */
export default function StatusBadge({ status }: Props) {
  return <span className={`badge badge--${status.replace(/[^a-z_]/gi, '')}`}>{status.replace(/_/g, ' ')}</span>;
}
