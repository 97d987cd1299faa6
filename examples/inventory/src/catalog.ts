// The products and warehouses, fixed for the example. Every replica builds
// its stock state machine from INITIAL_STOCK, so "initial" is the same
// everywhere and the conservation check can use it.

export interface Product {
  sku: string
  name: string
  /** Price in cents. */
  priceCents: number
}

export const PRODUCTS: readonly Product[] = [
  { sku: 'mug', name: 'Troupe mug', priceCents: 1200 },
  { sku: 'shirt', name: 'Troupe T-shirt', priceCents: 2500 },
  { sku: 'sticker', name: 'Sticker pack', priceCents: 400 },
  { sku: 'poster', name: 'Actor model poster', priceCents: 1800 },
]

export const WAREHOUSES = ['east', 'west'] as const
export type Warehouse = (typeof WAREHOUSES)[number]

/** Units on hand per SKU in each warehouse when its group is founded. */
export const INITIAL_STOCK: Readonly<Record<string, number>> = { mug: 20, shirt: 20, sticker: 40, poster: 10 }

/** The restock job tops a SKU up by RESTOCK_UNITS when fewer than RESTOCK_BELOW units are available. */
export const RESTOCK_BELOW = 10
export const RESTOCK_UNITS = 15

/** Largest quantity one order may ask for. */
export const MAX_ORDER_QTY = 10

export function productOf(sku: string): Product | undefined {
  return PRODUCTS.find((p) => p.sku === sku)
}

export function isWarehouse(name: unknown): name is Warehouse {
  return typeof name === 'string' && (WAREHOUSES as readonly string[]).includes(name)
}

/** The Raft group id holding a warehouse's stock. */
export function stockGroupId(warehouse: Warehouse): string {
  return `stock-${warehouse}`
}
