// The RecordingStore port moved to src/ports/stores.ts; this path stays for existing imports.
export type { RecordingStore, StoredClip } from '../ports/stores.js';
