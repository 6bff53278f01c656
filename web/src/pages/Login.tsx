import { useState, type FormEvent, type ReactNode } from 'react';
import { Button, Card, Field, Input, InlineError } from '../components/ui';
import { useSession } from '../session';

export function LoginPage({ themeToggle }: { themeToggle: ReactNode }) {
  const { login } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex min-h-full items-center justify-center p-4">
      <div className="absolute top-3 right-3">{themeToggle}</div>
      <Card className="w-full max-w-sm p-6">
        <div className="mb-6 flex items-center gap-3">
          <img src="/favicon.svg" alt="" className="size-9" />
          <div>
            <h1 className="text-xl font-semibold">Sign in to Kai</h1>
            <p className="text-sm text-zinc-500">Flexy sandboxes on this machine</p>
          </div>
        </div>
        <form onSubmit={(event) => void submit(event)} className="space-y-4">
          <Field label="Username" htmlFor="username">
            <Input id="username" name="username" autoComplete="username" autoFocus required value={username} onChange={(e) => setUsername(e.target.value)} />
          </Field>
          <Field label="Password" htmlFor="password">
            <Input id="password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </Field>
          <InlineError error={error} />
          <Button type="submit" variant="primary" className="w-full" busy={busy}>
            Sign in
          </Button>
        </form>
      </Card>
    </div>
  );
}
