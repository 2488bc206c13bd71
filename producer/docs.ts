/**
 * `GET /docs`: Swagger UI served entirely by the producer. Its script and style come
 * from the pinned npm package `swagger-ui-dist`, read from the package's own folder
 * and served under `/docs/assets/`, so the page renders where no CDN is reachable.
 *
 * @module
 */
import type { Handler } from "hono";
import { swaggerUI } from "@hono/swagger-ui";
import getAbsoluteFSPath from "swagger-ui-dist/absolute-path.js";
import type { ProducerEnv } from "./context.ts";
import { ROUTES } from "./routes/declarations.ts";

/** The file part of the assets' route; `@hono/swagger-ui` appends it to its `baseUrl`. */
const ASSET_FILE = "/swagger-ui-dist/{file}";
/** Where the page loads its assets from: the declared asset route without its file part. */
const DOCS_ASSET_BASE = ROUTES.docsAsset.operation.path.slice(0, -ASSET_FILE.length);

/** The files the page needs, with their media types: nothing else of the package is served. */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

/** Options of {@linkcode docsHandlers}. */
export interface DocsOptions {
  /** Path of the OpenAPI document the page shows. */
  specUrl: string;
  /** Folder holding swagger-ui-dist's files (default: the installed package's). */
  assetDir?: string;
}

/** The handlers of `GET /docs` and of its assets. */
export interface DocsHandlers {
  page: Handler<ProducerEnv>;
  /** `GET /docs/assets/swagger-ui-dist/:file`; files are read once, on first request. */
  asset: Handler<ProducerEnv>;
}

/** Builds the handlers of the docs routes (declared in `routes/declarations.ts`). */
export function docsHandlers(options: DocsOptions): DocsHandlers {
  const dir = options.assetDir ?? getAbsoluteFSPath();
  const cache = new Map<string, Promise<Uint8Array>>();
  const read = (file: string) => {
    let content = cache.get(file);
    if (!content) {
      content = Deno.readFile(`${dir}/${file}`);
      // A failed read is retried by the next request rather than cached.
      content.catch(() => cache.delete(file));
      cache.set(file, content);
    }
    return content;
  };

  const page = swaggerUI({
    url: options.specUrl,
    baseUrl: DOCS_ASSET_BASE,
    title: "Payment Producer API",
    // Swagger UI would otherwise send the document to validator.swagger.io.
    validatorUrl: "none",
  });
  return {
    page: (c, next) => page(c as never, next) as Promise<Response>,
    asset: async (c) => {
      const file = c.req.param("file") ?? "";
      const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
      if (!type) return c.notFound();
      const body = await read(file);
      return c.body(body.slice(), 200, {
        "content-type": type,
        // The package version is pinned: the files change only with a new release.
        "cache-control": "public, max-age=3600",
      });
    },
  };
}
