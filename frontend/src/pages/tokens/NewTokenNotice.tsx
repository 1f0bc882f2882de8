import { useEffect, useRef, useState } from 'react';
import type { NewApiToken } from '../../api/types';
import { copyText } from '../../lib/clipboard';

/** The freshly created token, shown this once, with a copy button. */
export default function NewTokenNotice({ token, onDone }: { token: NewApiToken; onDone: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    inputRef.current?.focus();
    inputRef.current?.select();
  }, []);

  const copy = async () => {
    const ok = await copyText(token.token);
    setCopied(ok ? 'yes' : 'no');
    if (!ok) inputRef.current?.select();
  };

  return (
    <section className="panel notice--warn" aria-labelledby="new-token-title" data-testid="new-token">
      <h2 id="new-token-title">Token “{token.name}” created</h2>
      <p>
        <strong>Copy it now: you won't see it again.</strong> Only its hash is kept on the server; if you lose it, revoke it and
        create another.
      </p>
      <div className="secret">
        <label htmlFor="new-token-value" className="visually-hidden">
          New API token
        </label>
        <input ref={inputRef} id="new-token-value" type="text" readOnly value={token.token} onFocus={(e) => e.target.select()} />
        <button type="button" className="btn btn--primary" onClick={copy}>
          Copy
        </button>
        <button type="button" className="btn" onClick={onDone}>
          Done
        </button>
      </div>
      <p className="small" role="status" aria-live="polite">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'no' ? 'Copying is not available here: the token is selected, press Ctrl+C.' : ''}
      </p>
      <p className="small muted" style={{ marginBottom: 0 }}>
        Use it as <code>Authorization: Bearer {token.prefix}…</code> in scripts and notebooks.
      </p>
    </section>
  );
}
