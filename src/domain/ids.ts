/**
 * Branded external ids. An id is the string a catalog or a listener uses; models never see it,
 * they work on dense row indices that only an {@link IdMap} converts to and from.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type ArtistId = Brand<string, 'ArtistId'>;
export type AlbumId = Brand<string, 'AlbumId'>;
export type TrackId = Brand<string, 'TrackId'>;
export type UserId = Brand<string, 'UserId'>;
export type ListenId = Brand<string, 'ListenId'>;
export type DocumentId = Brand<string, 'DocumentId'>;

export const ArtistId = (s: string) => s as ArtistId;
export const AlbumId = (s: string) => s as AlbumId;
export const TrackId = (s: string) => s as TrackId;
export const UserId = (s: string) => s as UserId;
export const ListenId = (s: string) => s as ListenId;
export const DocumentId = (s: string) => s as DocumentId;

/**
 * A bijection between external ids and dense rows 0..size-1, built once per trained run.
 * `row(id)` returns -1 for an id the run never saw: unknown ids are an explicit result.
 */
export class IdMap<Id extends string = string> {
  private readonly index = new Map<string, number>();
  private readonly ids: Id[] = [];

  constructor(ids: Iterable<Id> = []) {
    for (const id of ids) this.add(id);
  }

  /** Row of `id`, adding it at the end when new. */
  add(id: Id): number {
    let r = this.index.get(id);
    if (r === undefined) {
      r = this.ids.length;
      this.index.set(id, r);
      this.ids.push(id);
    }
    return r;
  }

  /** Row of `id`, or -1 when the map does not know it. */
  row(id: string): number {
    return this.index.get(id) ?? -1;
  }

  /** External id of `row`; throws on a row out of range (a bug, not an input error). */
  id(row: number): Id {
    const id = this.ids[row];
    if (id === undefined) throw new RangeError(`row ${row} is outside 0..${this.ids.length - 1}`);
    return id;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  get size(): number {
    return this.ids.length;
  }

  toArray(): readonly Id[] {
    return this.ids;
  }
}
