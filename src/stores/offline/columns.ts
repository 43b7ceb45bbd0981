/**
 * Column-wise decoding of a DuckDB result for `OfflineStore.queryColumns`: numeric columns that a
 * double holds exactly are copied chunk by chunk into one Float64Array (NaN for NULL), so a million
 * values cost no row object and no boxed number each; other columns keep `query`'s JS values.
 */
import {
  type DuckDBDataChunk,
  type DuckDBResult,
  DuckDBTypeId,
  JSDuckDBValueConverter,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';

/** Types every value of which a double holds exactly (BIGINT stays bigint, as `query` gives it). */
const NUMERIC = new Set<DuckDBTypeId>([
  DuckDBTypeId.DOUBLE,
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UTINYINT,
]);

/**
 * DOUBLE vectors are copied straight from the chunk's memory through the C API that node-api wraps:
 * measured on 5M values, `getItem` per value took 1.16 s, mostly its BigInt validity test.
 */
function copyDoubles(chunks: readonly DuckDBDataChunk[], column: number, rows: number): Float64Array {
  const out = new Float64Array(rows);
  let at = 0;
  for (const chunk of chunks) {
    const n = chunk.rowCount;
    const vector = duckdb.data_chunk_get_vector(chunk.chunk, column);
    const data = duckdb.vector_get_data(vector, n * 8);
    out.set(new Float64Array(data.buffer, data.byteOffset, n), at);
    const valid = duckdb.vector_get_validity(vector, Math.ceil(n / 64) * 8);
    if (valid) {
      for (let i = 0; i < n; i++) if ((valid[i >> 3]! & (1 << (i & 7))) === 0) out[at + i] = Number.NaN;
    }
    at += n;
  }
  return out;
}

function copyNumbers(chunks: readonly DuckDBDataChunk[], column: number, rows: number): Float64Array {
  const out = new Float64Array(rows);
  let at = 0;
  for (const chunk of chunks) {
    const vector = chunk.getColumnVector(column);
    const n = chunk.rowCount;
    for (let i = 0; i < n; i++) out[at + i] = (vector.getItem(i) as number | null) ?? Number.NaN;
    at += n;
  }
  return out;
}

function copyValues(chunks: readonly DuckDBDataChunk[], column: number, json: boolean): unknown[] {
  const out: unknown[] = [];
  for (const chunk of chunks) {
    for (const value of chunk.convertColumnValues(column, JSDuckDBValueConverter)) {
      out.push(json && typeof value === 'string' ? JSON.parse(value) : value);
    }
  }
  return out;
}

/** The whole result as column name -> Float64Array (numeric columns) or array of JS values. */
export async function decodeColumns(result: DuckDBResult): Promise<Record<string, Float64Array | unknown[]>> {
  const chunks = await result.fetchAllChunks();
  const rows = chunks.reduce((n, c) => n + c.rowCount, 0);
  const names = result.columnNames();
  const types = result.columnTypes();
  const out: Record<string, Float64Array | unknown[]> = {};
  names.forEach((name, i) => {
    const type = types[i];
    out[name] =
      type?.typeId === DuckDBTypeId.DOUBLE
        ? copyDoubles(chunks, i, rows)
        : type && NUMERIC.has(type.typeId)
          ? copyNumbers(chunks, i, rows)
          : copyValues(chunks, i, type?.alias === 'JSON');
  });
  return out;
}
