// A tiny ustar writer for building test images (docker save layout) by hand.
export interface TarInput {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink";
  data?: Buffer | string;
  linkname?: string;
  mode?: number;
}

const FLAGS = { file: "0", hardlink: "1", symlink: "2", dir: "5" } as const;

function header(e: TarInput, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s.slice(0, len), off, len, "utf8");
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, "0"), off, len - 1);
  // Names over 100 bytes would need a prefix or pax header; the tests keep them short.
  if (Buffer.byteLength(e.name) > 100) throw new Error(`name too long for this writer: ${e.name}`);
  put(e.name, 0, 100);
  oct(e.mode ?? (e.type === "dir" ? 0o755 : 0o644), 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(0, 136, 12);
  h.write(FLAGS[e.type ?? "file"], 156, 1);
  put(e.linkname ?? "", 157, 100);
  put("ustar\u000000", 257, 8);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8);
  return h;
}

export function tar(entries: TarInput[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === "string" ? Buffer.from(e.data) : e.data ?? Buffer.alloc(0);
    parts.push(header(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A `docker save` archive: manifest.json plus one layer.tar per layer, bottom first. */
export function dockerSave(layers: Buffer[]): Buffer {
  const names = layers.map((_, i) => `layer${i}/layer.tar`);
  const manifest = [{ Config: "config.json", RepoTags: ["test:latest"], Layers: names }];
  return tar([
    { name: "manifest.json", data: JSON.stringify(manifest) },
    { name: "config.json", data: "{}" },
    ...layers.map((l, i) => ({ name: names[i]!, data: l })),
  ]);
}
