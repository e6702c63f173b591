// The HTTP port moved to src/ports/http.ts; this path stays for existing imports.
export type {
  HttpAdapter,
  HttpAttemptEvent,
  HttpMethod,
  HttpRequest,
  HttpResponse,
  RetryMode,
} from '../ports/http.js';
