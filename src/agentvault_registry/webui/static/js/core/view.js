// The base of every view. The router constructs it with (context, params, query), awaits
// render(container), then calls afterRender(); destroy() runs when the user leaves. Work
// started through this.signal, this.listen and this.every ends with the view.

export class View {
  constructor(context, params = {}, query = new URLSearchParams()) {
    this.context = context;
    this.api = context.api;
    this.session = context.session;
    this.router = context.router;
    this.params = params;
    this.query = query;
    this.aborter = new AbortController();
    this.disposers = [];
  }

  /** Aborts this view's requests when the user navigates away. */
  get signal() {
    return this.aborter.signal;
  }

  async render(container) {
    this.container = container;
  }

  afterRender() {}

  destroy() {
    this.aborter.abort();
    for (const dispose of this.disposers.splice(0)) dispose();
  }

  listen(target, type, handler, options) {
    target.addEventListener(type, handler, options);
    this.disposers.push(() => target.removeEventListener(type, handler, options));
  }

  every(milliseconds, work) {
    const timer = setInterval(work, milliseconds);
    this.disposers.push(() => clearInterval(timer));
    return timer;
  }

  later(milliseconds, work) {
    const timer = setTimeout(work, milliseconds);
    this.disposers.push(() => clearTimeout(timer));
    return timer;
  }

  /** Run something when the view goes away (close a stream, destroy a chart). */
  onDestroy(dispose) {
    this.disposers.push(dispose);
  }
}
