/** Errors the API client raises: one class per way a request can fail. */

/** The gateway answered with an error body (`{"error": {"code", "message"}}`). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  /** Worth trying again later: the server or a proxy failed, or asked us to slow down. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/** The request never got an answer (no connection, DNS, timeout). Always retryable. */
export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

/** There is no usable session any more: the refresh token was refused or is missing. */
export class SignedOutError extends Error {
  constructor() {
    super('You are signed out. Log in again.');
    this.name = 'SignedOutError';
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
