/** The read-only link approvers get in notifications, or undefined when the page is not served. */
export function requestPageUrl(publicUrl: string | undefined, requestId: string): string | undefined {
  if (publicUrl === undefined) return undefined;
  const url = `${publicUrl.replace(/\/+$/, '')}/requests/${encodeURIComponent(requestId)}`;
  // Slack's `<url|text>` syntax and plain-text mail both break on these; a config URL with them gets no link.
  return /[\s|<>]/.test(url) ? undefined : url;
}
