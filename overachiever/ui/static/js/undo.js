// Undo in the notice after a change: find the operation the change made, undo it, redo the undo.

import { ApiError, api, describeError, sentence } from "./api.js";
import { showError, showInfo } from "./notify.js";

/**
 * The operation a change just made, or null when it cannot be told for sure.
 *
 * The API's answer to a change does not name the operation it recorded, so this reads the
 * newest of the account's operations (GET /operations?limit=1) right after the change succeeded.
 * Normally the person is the only one writing to their goals, so that is the change they just
 * made. A change made meanwhile elsewhere (another tab, a script, the trash's expiry) could slip
 * in between: the operation is used only if it touched `goalId` (the goal the change was about),
 * and no Undo is offered otherwise, so an Undo never puts back someone else's change by mistake.
 * Call it only after a write that changed something (a save without changes makes no operation).
 */
export async function lastOperation(goalId = null) {
  let op;
  try {
    const { data } = await api("GET", "/operations?limit=1");
    op = data.items[0];
  } catch {
    return null; // the change itself worked; it is only offered without an Undo
  }
  if (!op) return null;
  // goal_ids lists the first 1000 goals of a large operation; past that, trust its count.
  const listed = op.goal_ids.length >= op.goals_count;
  if (goalId !== null && listed && !op.goal_ids.includes(goalId)) return null;
  return op;
}

/** The words for a refused undo: the problem's own detail, and what stands in the way. */
export function undoErrorText(error) {
  if (!(error instanceof ApiError) || error.status !== 409) return describeError(error);
  const p = error.problem || {};
  let text = sentence(p.detail) || "That cannot be undone.";
  if (Array.isArray(p.conflicts) && p.conflicts.length) {
    text += ` In the way: ${p.conflicts.map((id) => `change #${id}`).join(", ")}.`;
  }
  return text;
}

/**
 * Show `message` (what was just done) with an Undo button when `op` is known.
 * refresh() re-reads and re-renders the page after an undo or redo.
 */
export function noticeWithUndo(message, op, refresh) {
  if (!op) return showInfo(message);
  return showInfo(message, [{ label: "Undo", run: () => undoOperation(op, message, refresh) }]);
}

/**
 * Undo `op`; the notice that follows offers to undo that undo in turn ("Redo", then "Undo"...).
 * Resolves to the new operation, or null when the undo was refused (the reason is shown).
 */
export async function undoOperation(op, message, refresh, redoing = false) {
  let made;
  try {
    const { data } = await api("POST", `/operations/${op.id}/undo`);
    made = data.operation;
  } catch (error) {
    showError(undoErrorText(error));
    await refresh();
    return null;
  }
  await refresh();
  const next = redoing ? "Undo" : "Redo";
  showInfo(`${redoing ? "Redone" : "Undone"}: ${message}`, [
    { label: next, run: () => undoOperation(made, message, refresh, !redoing) },
  ]);
  return made;
}
