import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, setCsrfToken, setUnauthorizedHandler } from './api';
import { navigate } from './router';
import type { Login, Me } from './types';

type User = Me['user'];
interface Session {
  user: User | null;
  /** true until GET /api/auth/me has answered once. */
  checking: boolean;
  login(username: string, password: string): Promise<void>;
  logout(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export const useSession = (): Session => {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
};

const loginUrl = () => {
  const here = location.pathname + location.search;
  return here.startsWith('/login') ? here : `/login?next=${encodeURIComponent(here)}`;
};

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [checking, setChecking] = useState(true);

  const signedOut = useCallback(() => {
    setCsrfToken(null);
    setUser(null);
    if (!location.pathname.startsWith('/login')) navigate(loginUrl(), { replace: true });
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(signedOut);
    api<Me>('GET', '/api/auth/me', undefined, { quiet401: true })
      .then((me) => {
        setCsrfToken(me.csrfToken);
        setUser(me.user);
      })
      .catch((error) => {
        if (error instanceof ApiError && error.status === 401) signedOut();
      })
      .finally(() => setChecking(false));
  }, [signedOut]);

  const login = useCallback(async (username: string, password: string) => {
    const result = await api<Login>('POST', '/api/auth/login', { username, password }, { quiet401: true });
    setCsrfToken(result.csrfToken);
    setUser(result.user);
  }, []);

  const logout = useCallback(async () => {
    try {
      await api('POST', '/api/auth/logout');
    } finally {
      setCsrfToken(null);
      setUser(null);
      navigate('/login', { replace: true });
    }
  }, []);

  return <SessionContext.Provider value={{ user, checking, login, logout }}>{children}</SessionContext.Provider>;
}
