import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { useAuth } from './auth/AuthContext';
import { RequireAuth, RequireRole } from './auth/guards';
import Layout from './components/Layout';
import { ErrorBanner, Loading } from './components/Feedback';
import AuditPage from './pages/admin/AuditPage';
import UsersPage from './pages/admin/UsersPage';
import LoginPage from './pages/LoginPage';
import NewTaskPage from './pages/newTask/NewTaskPage';
import TasksPage from './pages/tasks/TasksPage';
import TokensPage from './pages/tokens/TokensPage';
import NotFoundPage from './pages/NotFoundPage';

// The task page carries the charts (ECharts); load it only when a task is opened.
const TaskPage = lazy(() => import('./pages/task/TaskPage'));
const ComparePage = lazy(() => import('./pages/compare/ComparePage'));

export default function App() {
  const { state, reload } = useAuth();

  if (state.status === 'loading')
    return (
      <main id="main" className="page">
        <Loading label="Loading…" />
      </main>
    );
  if (state.status === 'error')
    return (
      <main id="main" className="page">
        <h1>Iterative property prediction</h1>
        <ErrorBanner error={state.error} onRetry={reload} />
      </main>
    );

  return (
    <Routes>
      <Route path="login" element={<LoginPage />} />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<Navigate to="/tasks" replace />} />
        <Route
          path="new"
          element={
            <RequireRole role="member" action="Starting a task">
              <NewTaskPage />
            </RequireRole>
          }
        />
        <Route path="tasks" element={<TasksPage />} />
        <Route
          path="tasks/:taskId"
          element={
            <Suspense fallback={<Loading label="Loading task page…" />}>
              <TaskPage />
            </Suspense>
          }
        />
        <Route
          path="compare"
          element={
            <Suspense fallback={<Loading label="Loading…" />}>
              <ComparePage />
            </Suspense>
          }
        />
        <Route path="tokens" element={<TokensPage />} />
        <Route
          path="admin/users"
          element={
            <RequireRole role="admin" action="Managing users">
              <UsersPage />
            </RequireRole>
          }
        />
        <Route
          path="admin/audit"
          element={
            <RequireRole role="admin" action="Reading the audit trail">
              <AuditPage />
            </RequireRole>
          }
        />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
