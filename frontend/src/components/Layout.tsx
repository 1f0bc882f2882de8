import { NavLink, Outlet } from 'react-router-dom';

export default function Layout() {
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
            <NavLink to="/new" className="nav-link">
              New task
            </NavLink>
          </nav>
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
