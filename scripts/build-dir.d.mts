// Types of build-dir.mjs (plain JavaScript, so that scripts/run.mjs can use it before dependencies are installed).
export declare const root: string;
export declare function sourceHash(): string;
export declare function currentBuild(): string | null;
export declare function plannedBuild(): { distDir: string; hash: string; needed: boolean };
export declare function markBuilt(build: { distDir: string; hash: string }): void;
export declare function registerServer(distDir: string, pid?: number): () => void;
export declare function withBuildLock<T>(distDir: string, build: () => T): T;
export declare function prune(): void;
