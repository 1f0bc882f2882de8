import { NavLink, Outlet } from 'react-router-dom';
import { useAuth } from '../auth/AuthContext';
import { canWrite, isAdmin } from '../auth/roles';

export default function Layout() {
  const { user, authRequired, logout } = useAuth();

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar__inner">
          <span className="brand">Iterative property prediction</span>
          <nav aria-label="Main">
            <NavLink to="/tasks" end className="nav-link">
              Tasks
            </NavLink>
            {canWrite(user) ? (
              <NavLink to="/new" className="nav-link">
                New task
              </NavLink>
            ) : null}
            {authRequired ? (
              <NavLink to="/tokens" className="nav-link">
                API tokens
              </NavLink>
            ) : null}
            {authRequired && isAdmin(user) ? (
              <>
                <NavLink to="/admin/users" className="nav-link">
                  Users
                </NavLink>
                <NavLink to="/admin/audit" className="nav-link">
                  Audit trail
                </NavLink>
              </>
            ) : null}
          </nav>
          <div className="topbar__user">
            {authRequired && user ? (
              <>
                <span data-testid="current-user">
                  <span className="visually-hidden">Signed in as </span>
                  {user.username} <span className="role-badge">{user.role}</span>
                </span>
                <button type="button" className="btn btn--small btn--topbar" onClick={logout}>
                  Log out
                </button>
              </>
            ) : (
              <span className="small topbar__note" title="Accounts are off (ENVIRONMENT=development): every request acts as a local admin.">
                Single-user mode, no login
              </span>
            )}
          </div>
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
