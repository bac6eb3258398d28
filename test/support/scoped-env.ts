import { resetWorkflowDeps } from '../../lambdas/core/workflow/deps';

/**
 * Environment changes a test world makes (Qualtrics settings, wait scale, AWS endpoints), undone
 * on `restore()`. The step dependencies are rebuilt after each change, as a new Lambda would.
 */
export interface ScopedEnv {
  set(vars: Record<string, string | undefined>): void;
  restore(): void;
}

export function scopedEnv(): ScopedEnv {
  const saved = new Map<string, string | undefined>();
  return {
    set(vars) {
      for (const [k, v] of Object.entries(vars)) {
        if (!saved.has(k)) saved.set(k, process.env[k]);
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      resetWorkflowDeps();
    },
    restore() {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      saved.clear();
      resetWorkflowDeps();
    },
  };
}
