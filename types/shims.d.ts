declare module 'dynalite' {
  import type { Server } from 'node:http';

  function dynalite(opts?: {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    path?: string;
  }): Server;
  export = dynalite;
}
declare module 'asl-validator' {
  function aslValidator(
    definition: unknown,
    opts?: { checkArn?: boolean; checkPaths?: boolean },
  ): { isValid: boolean; errors: Array<Record<string, string>> };
  export = aslValidator;
}
declare module 's3rver' {
  interface S3rverOptions {
    port?: number;
    address?: string;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    configureBuckets?: Array<{ name: string; configs?: unknown[] }>;
  }
  class S3rver {
    constructor(opts: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
  export = S3rver;
}
