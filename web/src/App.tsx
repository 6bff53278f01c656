import { Boxes, FolderHeart, LogOut, Moon, Settings as SettingsIcon, Sun } from 'lucide-react';
import type { ReactNode } from 'react';
import { Button, cn, Spinner } from './components/ui';
import { EventsProvider } from './events';
import { CatalogPage } from './pages/Catalog';
import { LoginPage } from './pages/Login';
import { SandboxPage } from './pages/Sandbox';
import { SandboxesPage } from './pages/Sandboxes';
import { SettingsPage } from './pages/Settings';
import { Link, match, Redirect, useLocation } from './router';
import { SessionProvider, useSession } from './session';
import { useTheme } from './theme';

export function App() {
  const [theme, toggleTheme] = useTheme();
  return (
    <SessionProvider>
      <Routes themeToggle={<ThemeToggle theme={theme} toggle={toggleTheme} />} />
    </SessionProvider>
  );
}

function ThemeToggle({ theme, toggle }: { theme: string; toggle: () => void }) {
  return (
    <Button variant="ghost" size="icon" onClick={toggle} aria-label={theme === 'dark' ? 'Use light theme' : 'Use dark theme'} title="Toggle theme">
      {theme === 'dark' ? <Sun className="size-4" /> : <Moon className="size-4" />}
    </Button>
  );
}

function Routes({ themeToggle }: { themeToggle: ReactNode }) {
  const { user, checking } = useSession();
  const { pathname, search } = useLocation();
  if (checking) return <Spinner label="Connecting to Kai…" />;
  if (pathname === '/login') {
    if (user) return <Redirect to={safeNext(search.get('next'))} />;
    return <LoginPage themeToggle={themeToggle} />;
  }
  if (!user) return <Redirect to={`/login?next=${encodeURIComponent(pathname + (search.size ? `?${search}` : ''))}`} />;

  let page: ReactNode;
  let params: Record<string, string> | null;
  if (pathname === '/' || pathname === '/sandboxes') page = <SandboxesPage />;
  else if ((params = match('/sandboxes/:id', pathname))) page = <SandboxPage key={params.id} id={params.id!} />;
  else if (pathname === '/catalog') page = <CatalogPage />;
  else if (pathname === '/settings') page = <SettingsPage />;
  else page = <p className="p-8 text-center">Nothing here. <Link to="/" className="text-indigo-600 underline">Back to sandboxes</Link></p>;

  return (
    <EventsProvider>
      <Shell themeToggle={themeToggle}>{page}</Shell>
    </EventsProvider>
  );
}

/** Only same-origin paths: never an open redirect. */
const safeNext = (next: string | null) => (next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/');

function Shell({ children, themeToggle }: { children: ReactNode; themeToggle: ReactNode }) {
  const { user, logout } = useSession();
  const { pathname } = useLocation();
  const nav = [
    { to: '/', label: 'Sandboxes', icon: Boxes, active: pathname === '/' || pathname.startsWith('/sandboxes') },
    { to: '/catalog', label: 'Catalog', icon: FolderHeart, active: pathname === '/catalog' },
    { to: '/settings', label: 'Settings', icon: SettingsIcon, active: pathname === '/settings' },
  ];
  return (
    <div className="flex min-h-full flex-col">
      <header className="sticky top-0 z-30 border-b border-zinc-200 bg-white/90 backdrop-blur dark:border-zinc-800 dark:bg-zinc-900/90">
        <div className="mx-auto flex h-14 max-w-6xl items-center gap-2 px-3 sm:px-4">
          <Link to="/" className="mr-2 flex items-center gap-2 font-semibold">
            <img src="/favicon.svg" alt="" className="size-6" /> <span className="hidden sm:inline">Kai</span>
          </Link>
          <nav className="flex flex-1 items-center gap-1" aria-label="Main">
            {nav.map(({ to, label, icon: Icon, active }) => (
              <Link
                key={to}
                to={to}
                aria-current={active ? 'page' : undefined}
                className={cn('flex items-center gap-1.5 rounded-md px-2.5 py-1.5 text-sm font-medium', active ? 'bg-zinc-200/80 dark:bg-zinc-800' : 'text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800')}
              >
                <Icon className="size-4" aria-hidden />
                <span className="hidden sm:inline">{label}</span>
                <span className="sr-only sm:hidden">{label}</span>
              </Link>
            ))}
          </nav>
          <span className="hidden text-sm text-zinc-500 md:inline">
            {user?.username} · {user?.role}
          </span>
          {themeToggle}
          <Button variant="ghost" size="icon" onClick={() => void logout()} aria-label="Log out" title="Log out">
            <LogOut className="size-4" />
          </Button>
        </div>
      </header>
      <main className="mx-auto w-full max-w-6xl flex-1 px-3 py-5 sm:px-4">{children}</main>
    </div>
  );
}
