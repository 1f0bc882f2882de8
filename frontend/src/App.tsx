import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import Layout from './components/Layout';
import { Loading } from './components/Feedback';
import NewTaskPage from './pages/newTask/NewTaskPage';
import TasksPage from './pages/tasks/TasksPage';
import NotFoundPage from './pages/NotFoundPage';

// The task page carries the charts (ECharts); load it only when a task is opened.
const TaskPage = lazy(() => import('./pages/task/TaskPage'));

export default function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/tasks" replace />} />
        <Route path="new" element={<NewTaskPage />} />
        <Route path="tasks" element={<TasksPage />} />
        <Route
          path="tasks/:taskId"
          element={
            <Suspense fallback={<Loading label="Loading task page…" />}>
              <TaskPage />
            </Suspense>
          }
        />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
