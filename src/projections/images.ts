// What the journal says each image reference names: a pure fold of the image stream. With the
// containers' own images (index.ts, imagesInUse) it is what the image store's sweep keeps, so
// the count of what holds a layer is the journal's, and a replay rebuilds it (docs/images.md).
import type { ImageEvent, StoredEvent } from "../events/catalogue.js";
import { assertNever } from "../model/errors.js";

/** The exact image a reference names. `config` is absent only for a tag of a reference the journal never saw pulled or loaded. */
export interface ImageRef {
  manifest: string;
  config?: string;
  index?: string;
}

/** The references after one image event: a new record, so a caller's old one stays as it was. */
export function evolveImages(images: Record<string, ImageRef>, event: StoredEvent<ImageEvent>): Record<string, ImageRef> {
  switch (event.type) {
    case "ImagePulled": {
      const { reference, digest, config, index } = event.data;
      return { ...images, [reference]: { manifest: digest, config, ...(index ? { index } : {}) } };
    }
    case "ImageLoaded":
      return { ...images, [event.data.reference]: { manifest: event.data.digest, config: event.data.config } };
    case "ImageTagged": {
      // A tag of the built-in image (named by no event) records its manifest alone.
      const source = images[event.data.source];
      return { ...images, [event.data.reference]: source?.manifest === event.data.digest ? source : { manifest: event.data.digest } };
    }
    case "ImageRemoved": {
      const { [event.data.reference]: _, ...rest } = images;
      return rest;
    }
    default:
      return assertNever(event);
  }
}
