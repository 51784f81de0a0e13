/**
 * The engine's worker threads (the BMP/PNM decoder, onnxruntime sessions and the threads onnxruntime
 * starts) run at a lower scheduling priority than the event loop. On a machine with few cores, a pixel
 * bomb decoding or a large batch embedding would otherwise take the CPU from the thread that answers
 * health checks and every other request; at nice 10 they still get all the CPU the event loop leaves idle.
 * Linux applies a nice value per thread, and threads a worker creates inherit it; elsewhere the call may
 * affect the whole process or fail, so it is skipped where it would not be per thread.
 */
export const BACKGROUND_NICE = process.platform === 'linux' ? 10 : undefined;
