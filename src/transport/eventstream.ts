// A text/event-stream (server-sent events) reader: text in, whole events out. Used for Streamable HTTP
// answers sent as an event stream and for the long-lived stream of the HTTP+SSE transport of 2024-11-05.
// Only what MCP uses is kept: the event name and its data; ids and retry hints are read past.

export interface ServerEvent {
  /** The event's name; 'message' when the server gave none. */
  event: string;
  data: string;
}

/** Feed it text as it arrives; it calls onEvent for every complete event, in order. */
export function eventReader(onEvent: (e: ServerEvent) => void): (text: string) => void {
  let rest = '';
  let event = '';
  let data: string[] = [];
  const line = (text: string) => {
    if (text === '') {
      if (data.length) onEvent({ event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      return;
    }
    if (text.charCodeAt(0) === 58) return; // ':' starts a comment (keep-alive pings)
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
  };
  return (text) => {
    rest += text;
    let start = 0;
    for (;;) {
      const nl = rest.indexOf('\n', start);
      if (nl === -1) break;
      // Lines end with \n or \r\n (a lone \r is allowed by the standard but not seen from MCP servers).
      line(rest.charCodeAt(nl - 1) === 13 ? rest.slice(start, nl - 1) : rest.slice(start, nl));
      start = nl + 1;
    }
    rest = start === 0 ? rest : rest.slice(start);
  };
}
