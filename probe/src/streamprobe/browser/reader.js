// The browser reader: what a page sees when it reads an SSE URL with fetch + getReader().
//
// Evaluated by streamprobe.browser inside a page that is already on the target's origin (same-origin
// fetch, no CORS), as `page.evaluate(<this function>, opts)`. It reads the body exactly as a chat
// frontend does (fetch, response.body.getReader(), TextDecoder), parses SSE incrementally by the WHATWG
// line rules and timestamps each complete event (its blank line read) with performance.now(), relative
// to just before fetch(). `method` and `body` are the request's (a chat frontend POSTs the user's message);
// `headers` carry X-Streampath-Stamp: 1 when stamps are asked for, and the first valid `: sp-sent=<ms>`
// comment line after an event's dispatch becomes the next event's `stamp_ms` (docs/contracts/stamps.md);
// malformed stamps are counted in `badStamps`, never an error. It bounds itself: `timeoutMs` for the
// headers and for any silence inside the stream, `maxDurationMs` for the whole read, `maxEventBytes` for
// one event; on any of them it cancels the read and says why in `stopReason`. It never throws: errors
// come back in `error`.
async (opts) => {
  const out = {
    status: null,
    contentType: null,
    contentEncoding: null,
    headersMs: null,
    endMs: null,
    bytes: 0,
    events: [],
    done: false,
    stopReason: null,
    statusText: null,
    excerpt: null,
    error: null,
    timing: null,
    badStamps: {},
    href: location.href,
  };
  const controller = new AbortController();
  let reader = null;
  let phase = "headers";
  let silenceTimer = null;
  let stopReason = null;
  // Every wait below races against this promise, so a stop is immediate even if the stream is wedged.
  let wake = null;
  const stopped = new Promise((resolve) => {
    wake = resolve;
  });
  const stop = (reason) => {
    if (stopReason !== null) return;
    stopReason = reason;
    try {
      controller.abort();
    } catch (e) {}
    if (reader !== null) reader.cancel().catch(() => {});
    wake();
  };
  const armSilence = () => {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => stop(phase === "body" ? "stalled" : "timeout"), opts.timeoutMs);
  };
  const race = (p) => Promise.race([p, stopped.then(() => ({ stopped: true }))]);

  // --- incremental SSE parser (WHATWG "event stream interpretation") ---
  let lineBuf = "";
  let pendingCR = false;
  let dataLines = [];
  let dataChars = 0;
  let eventType = "";
  let eventId = null;
  let nowMs = 0;
  let stamp = null; // the first valid stamp since the last dispatch
  let lastStamp = null; // stamps never go backwards
  const stampPrefix = ": sp-sent=";
  const stampValue = /^[0-9]{1,12}(\.[0-9]{1,9})?$/;
  const badStamp = (reason) => {
    out.badStamps[reason] = (out.badStamps[reason] || 0) + 1;
  };
  const readStamp = (text) => {
    if (!stampValue.test(text)) return badStamp("not a number");
    const ms = Number(text);
    if (lastStamp !== null && ms < lastStamp) return badStamp("backwards");
    lastStamp = ms;
    if (stamp === null) stamp = ms;
  };
  const lineBreak = /[\r\n]/g;
  const dispatch = () => {
    if (dataLines.length > 0) {
      const data = dataLines.join("\n");
      const ev = {
        t: nowMs,
        type: eventType || "message",
        id: eventId,
        size: data.length,
        sent_ms: null,
        seq: null,
        stamp_ms: stamp,
      };
      stamp = null;
      if (data.charCodeAt(0) === 123 /* { */) {
        try {
          const obj = JSON.parse(data);
          if (obj !== null && typeof obj === "object") {
            if (typeof obj.sent_ms === "number" && isFinite(obj.sent_ms)) ev.sent_ms = obj.sent_ms;
            if (typeof obj.seq === "number" && isFinite(obj.seq)) ev.seq = obj.seq;
          }
        } catch (e) {}
      }
      out.events.push(ev);
    }
    dataLines = [];
    dataChars = 0;
    eventType = "";
  };
  const processLine = (line) => {
    if (line === "") return dispatch();
    if (line.charCodeAt(0) === 58 /* : comment */) {
      if (line.startsWith(stampPrefix)) readStamp(line.slice(stampPrefix.length));
      return;
    }
    if (line.indexOf(stampPrefix) >= 0) badStamp("mid-line");
    const colon = line.indexOf(":");
    let field = line;
    let value = "";
    if (colon >= 0) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    if (field === "data") {
      dataLines.push(value);
      dataChars += value.length + 1;
    } else if (field === "event") {
      eventType = value;
    } else if (field === "id") {
      if (value.indexOf("\u0000") < 0) eventId = value;
    }
    // "retry" and unknown fields are ignored, as a browser's EventSource would.
  };
  const feed = (text) => {
    let start = 0;
    if (pendingCR) {
      pendingCR = false;
      if (text.charCodeAt(0) === 10) start = 1; // the LF of a CRLF split across chunks
    }
    lineBreak.lastIndex = start;
    let m;
    while ((m = lineBreak.exec(text)) !== null) {
      const i = m.index;
      const line = lineBuf + text.slice(start, i);
      lineBuf = "";
      let next = i + 1;
      if (text.charCodeAt(i) === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) next = i + 2;
        } else {
          pendingCR = true;
        }
      }
      start = next;
      lineBreak.lastIndex = next;
      processLine(line);
    }
    lineBuf += text.slice(start);
    if (lineBuf.length + dataChars > opts.maxEventBytes) stop("too_large");
  };

  // --- the read ---
  const maxTimer = setTimeout(() => stop("max_duration"), opts.maxDurationMs);
  armSilence();
  const t0 = performance.now();
  try {
    const got = await race(
      fetch(opts.url, {
        method: opts.method || "GET",
        body: opts.body === null || opts.body === undefined ? undefined : opts.body,
        headers: opts.headers,
        cache: "no-store",
        credentials: "same-origin",
        signal: controller.signal,
      }),
    );
    if (got.stopped) throw new DOMException("stopped before the response headers", "AbortError");
    const resp = got;
    out.headersMs = performance.now() - t0;
    out.status = resp.status;
    out.statusText = resp.statusText;
    out.contentType = resp.headers.get("content-type");
    out.contentEncoding = resp.headers.get("content-encoding");
    const isSse = (out.contentType || "").split(";")[0].trim().toLowerCase() === "text/event-stream";
    if (resp.status < 200 || resp.status > 299 || !isSse || resp.body === null) {
      // Not a stream to judge (the caller reports http_status / content_type): keep the body's first
      // bytes for the message, read within the same bounds, then let go of it.
      phase = "excerpt";
      if (resp.body !== null) {
        reader = resp.body.getReader();
        const decoder = new TextDecoder("utf-8");
        let excerpt = "";
        while (excerpt.length < opts.excerptChars) {
          const r = await race(reader.read());
          if (r.stopped || r.done) break;
          excerpt += decoder.decode(r.value, { stream: true });
        }
        out.excerpt = excerpt.slice(0, opts.excerptChars);
        reader.cancel().catch(() => {});
      }
    } else {
      phase = "body";
      armSilence();
      reader = resp.body.getReader();
      const decoder = new TextDecoder("utf-8");
      for (;;) {
        const r = await race(reader.read());
        if (r.stopped) break;
        nowMs = performance.now() - t0;
        if (r.done) {
          feed(decoder.decode());
          out.done = true;
          break;
        }
        armSilence();
        out.bytes += r.value.byteLength;
        feed(decoder.decode(r.value, { stream: true }));
        if (stopReason !== null) break;
      }
    }
  } catch (e) {
    if (stopReason === null) out.error = { name: String(e && e.name), message: String(e && e.message) };
  } finally {
    out.endMs = performance.now() - t0;
    clearTimeout(silenceTimer);
    clearTimeout(maxTimer);
  }
  out.stopReason = stopReason;
  if (stopReason !== null && reader === null) {
    try {
      controller.abort();
    } catch (e) {}
  }

  // --- what the browser says about the request (Resource Timing, same-origin so fully visible) ---
  // The entry is queued when the response ends (or is cancelled); give it a moment to appear.
  const abs = new URL(opts.url, location.href).href;
  for (let i = 0; i < 20 && out.timing === null; i++) {
    const entries = performance.getEntriesByName(abs, "resource");
    if (entries.length > 0) {
      const e = entries[entries.length - 1];
      const rel = (v) => (typeof v === "number" && v > 0 ? v - t0 : null);
      out.timing = {
        nextHopProtocol: e.nextHopProtocol || null,
        startTime: rel(e.startTime),
        fetchStart: rel(e.fetchStart),
        domainLookupStart: rel(e.domainLookupStart),
        domainLookupEnd: rel(e.domainLookupEnd),
        connectStart: rel(e.connectStart),
        secureConnectionStart: rel(e.secureConnectionStart),
        connectEnd: rel(e.connectEnd),
        requestStart: rel(e.requestStart),
        responseStart: rel(e.responseStart),
        responseEnd: rel(e.responseEnd),
        transferSize: e.transferSize,
        encodedBodySize: e.encodedBodySize,
        decodedBodySize: e.decodedBodySize,
      };
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return out;
}
