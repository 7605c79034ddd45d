/** One page of a cursor-paginated list. */
export interface Page<T> {
  items: T[]
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string
}
