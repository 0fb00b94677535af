// SPDX-License-Identifier: MIT
// Paste an API key; it is exchanged for a short-lived token at once and not kept.
import { useState } from 'preact/hooks';
import { signIn } from '../api';
import logo from '../logo.svg';

export function SignIn() {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(key);
      if (location.hash === '') location.hash = '#/targets';
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <div class="signin">
      <form class="panel" onSubmit={submit}>
        <img src={logo} alt="tmiDB logo" width={64} height={64} />
        <h1>tmiDB Console</h1>
        <label>
          API key
          <input
            name="api-key"
            type="password"
            autocomplete="off"
            placeholder="tmi_…"
            value={key}
            onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={busy || key.trim() === ''}>
          Sign in
        </button>
        {error && <p class="error">{error}</p>}
        <p class="muted small">
          The key is exchanged for a short-lived token (POST /v1/tokens) kept only in this tab's session
          storage. An admin key is in &lt;TMIDB_HOME&gt;/admin.key.
        </p>
      </form>
    </div>
  );
}
