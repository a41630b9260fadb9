// Reconciliation: run now (or a dry run), the runs, the selected run with a progress bar and an ETA (from the
// remaining corrections and Graph's write pace, GET …/runs/{runId}/progress), its drift by kind and items; the
// staged deletions with approve / reject.
import { useEffect, useState } from 'preact/hooks';
import { call, get, post, query } from '../api';
import { href, navigate } from '../router';
import type { Run, RunItem, RunProgress, StagedOperation } from '../types';
import { Banner, ErrorBox, Loading, StatusBadge, useAction, useLoad, When } from '../ui';
import type { TabProps } from './connection';

type Progress = RunProgress;

const finished = (p: Progress | undefined) => p !== undefined && !['queued', 'examining', 'applying'].includes(p.phase);

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${seconds % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function RunDetail({
  connectionId,
  runId,
  onFinished,
}: {
  connectionId: string;
  runId: string;
  onFinished: () => void;
}) {
  const [progress, setProgress] = useState<Progress | undefined>();
  const [tick, setTick] = useState(0);
  const run = useLoad(
    () =>
      get<Run & { itemsPage: { value: RunItem[] } }>(
        `connections/${connectionId}/runs/${runId}${query({ limit: 100 })}`,
      ),
    [connectionId, runId, tick],
  );
  // Follow the run until it and its corrections are done: progress every second, the record when it changes phase.
  useEffect(() => {
    let live = true;
    let phase = '';
    const poll = async () => {
      while (live) {
        try {
          const p = await get<Progress>(`connections/${connectionId}/runs/${runId}/progress`);
          if (!live) return;
          setProgress(p);
          if (p.phase !== phase) {
            phase = p.phase;
            setTick((t) => t + 1);
          }
          if (finished(p)) {
            onFinished();
            return;
          }
        } catch {
          // A failed poll is retried with the next one.
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void poll();
    return () => {
      live = false;
    };
  }, [connectionId, runId]);
  const r = run.data;
  return (
    <section aria-labelledby="run-title" class="panel">
      <h2 id="run-title">
        Run {runId} {r ? <StatusBadge status={r.status} /> : null} {r?.dryRun ? '(dry run)' : ''}
      </h2>
      {progress ? (
        <div class="progress">
          <label for="run-progress">
            {progress.phase === 'examining'
              ? `Examining: ${progress.examined.directory} of ${progress.examined.directoryTotal} directory users compared`
              : progress.phase === 'applying' || progress.phase === 'done'
                ? `Applying corrections: ${progress.corrections.done} of ${progress.corrections.total} done${progress.corrections.failed ? `, ${progress.corrections.failed} failed` : ''}`
                : progress.phase}
          </label>
          <progress id="run-progress" max={100} value={progress.percent}>
            {progress.percent} %
          </progress>
          <p role="status">
            {progress.phase === 'done'
              ? 'Done.'
              : progress.etaSeconds !== null
                ? `About ${duration(progress.etaSeconds)} left at ${progress.writesPerSecond.toFixed(1)} Graph writes/s.`
                : progress.phase === 'examining' || progress.phase === 'queued'
                  ? 'ETA once the run has found its corrections.'
                  : ''}
          </p>
        </div>
      ) : null}
      <ErrorBox error={run.error} />
      {r ? (
        <>
          <dl class="facts">
            <dt>Requested</dt>
            <dd>
              <When at={r.requestedAt} /> ({r.trigger})
            </dd>
            <dt>Examined</dt>
            <dd>
              {r.examined.microsoft365} in Microsoft 365, {r.examined.directory} in the directory
            </dd>
            <dt>Corrections</dt>
            <dd>
              {r.enqueued} enqueued, {r.staged} staged, {r.unmatched} unmatched accounts, {r.failedUsers} failed users
            </dd>
            {r.reason ? (
              <>
                <dt>Reason</dt>
                <dd>{r.reason}</dd>
              </>
            ) : null}
          </dl>
          <h3>Drift by kind</h3>
          <table aria-label="Drift by kind">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Users</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(r.drift).map(([kind, n]) => (
                <tr key={kind}>
                  <th scope="row">{kind}</th>
                  <td>{n}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Items</h3>
          {r.itemsPage.value.length ? (
            <table aria-label="Run items">
              <thead>
                <tr>
                  <th scope="col">User or group</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Disposition</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {r.itemsPage.value.map((i, n) => (
                  <tr key={n}>
                    <td>
                      {i.externalId ?? i.userPrincipalName ?? '—'}
                      {i.objectType === 'group' ? ' (group)' : ''}
                    </td>
                    <td>{i.kind}</td>
                    <td>{i.disposition}</td>
                    <td>{i.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">No items.</p>
          )}
        </>
      ) : null}
    </section>
  );
}

function StagedPanel({
  connectionId,
  canWrite,
  onDecided,
}: {
  connectionId: string;
  canWrite: boolean;
  onDecided: () => void;
}) {
  const staged = useLoad(
    () => get<{ count: number; value: StagedOperation[] }>(`connections/${connectionId}/staged`),
    [connectionId],
  );
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const decide = useAction(async (decision: 'approve' | 'reject') => {
    const body = chosen.size ? { externalIds: [...chosen] } : undefined;
    const answer = await post(`connections/${connectionId}/staged/${decision}`, body);
    setChosen(new Set());
    staged.reload();
    onDecided();
    return { decision, answer };
  });
  return (
    <section aria-labelledby="staged-title">
      <h2 id="staged-title">Staged deletions{staged.data ? ` (${staged.data.count})` : ''}</h2>
      <p class="hint">
        Disables and deletes a run held back because they were more than the accidental-deletion threshold allows.
      </p>
      <ErrorBox error={staged.error ?? decide.error} />
      {decide.result ? (
        <Banner kind="success">
          Staged operations {decide.result.decision === 'approve' ? 'approved' : 'rejected'}.
        </Banner>
      ) : null}
      {staged.data?.value.length ? (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">Select</th>
                <th scope="col">User or group</th>
                <th scope="col">Operation</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {staged.data.value.map((s) => (
                <tr key={s.externalId}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${s.externalId}`}
                      checked={chosen.has(s.externalId)}
                      disabled={!canWrite}
                      onChange={(e) => {
                        const next = new Set(chosen);
                        if (e.currentTarget.checked) next.add(s.externalId);
                        else next.delete(s.externalId);
                        setChosen(next);
                      }}
                    />
                  </td>
                  <th scope="row">
                    {s.externalId}
                    {s.objectType === 'group' ? ' (group)' : ''}
                  </th>
                  <td>{s.operation}</td>
                  <td>{s.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {canWrite ? (
            <div class="actions">
              <button type="button" class="danger" disabled={decide.running} onClick={() => void decide.run('approve')}>
                Approve {chosen.size ? `${chosen.size} selected` : 'all'}
              </button>
              <button type="button" disabled={decide.running} onClick={() => void decide.run('reject')}>
                Reject {chosen.size ? `${chosen.size} selected` : 'all'}
              </button>
            </div>
          ) : null}
        </>
      ) : staged.data ? (
        <p class="muted">Nothing staged.</p>
      ) : null}
    </section>
  );
}

export function ReconciliationTab({ connection, rest, canWrite, reloadConnection }: TabProps) {
  const runs = useLoad(
    () => get<{ value: Run[] }>(`connections/${connection.id}/runs${query({ limit: 20 })}`),
    [connection.id],
  );
  const start = useAction(async (dryRun: boolean) => {
    const answer = await call<{ runId: string }>(
      'POST',
      `connections/${connection.id}/reconcile${query({ dryRun: dryRun || undefined })}`,
    );
    runs.reload();
    navigate(href('connections', connection.id, 'reconciliation', answer.body.runId));
    return answer.body;
  });
  const selected = rest[0] ?? runs.data?.value[0]?.runId;
  // A finished run may have staged operations, and changed the runs list.
  const [generation, setGeneration] = useState(0);
  const onFinished = () => {
    setGeneration((g) => g + 1);
    runs.reload();
  };
  return (
    <>
      {canWrite ? (
        <div class="actions">
          <button type="button" class="primary" disabled={start.running} onClick={() => void start.run(false)}>
            Run now
          </button>
          <button type="button" disabled={start.running} onClick={() => void start.run(true)}>
            Dry run
          </button>
        </div>
      ) : null}
      <ErrorBox error={start.error ?? runs.error} />
      {selected ? (
        <RunDetail key={selected} connectionId={connection.id} runId={selected} onFinished={onFinished} />
      ) : null}
      <StagedPanel key={generation} connectionId={connection.id} canWrite={canWrite} onDecided={reloadConnection} />
      <h2>Runs</h2>
      {runs.loading && !runs.data ? <Loading what="the runs" /> : null}
      {runs.data?.value.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Status</th>
              <th scope="col">Requested</th>
              <th scope="col">Drift</th>
              <th scope="col">Enqueued / staged</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.value.map((r) => (
              <tr key={r.runId}>
                <th scope="row">
                  <a
                    href={href('connections', connection.id, 'reconciliation', r.runId)}
                    aria-current={r.runId === selected ? 'true' : undefined}
                  >
                    {r.runId}
                  </a>
                  {r.dryRun ? ' (dry run)' : ''}
                </th>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>
                  <When at={r.requestedAt} />
                </td>
                <td>
                  {Object.entries(r.drift)
                    .filter(([, n]) => n > 0)
                    .map(([k, n]) => `${n} ${k}`)
                    .join(', ') || 'none'}
                </td>
                <td>
                  {r.enqueued} / {r.staged}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : runs.data ? (
        <p class="muted">No run yet.</p>
      ) : null}
    </>
  );
}
