import { expect, it } from "vitest";
import { Context } from "../src/index.js";

it("Context.resource makes a resource once, close() releases every one and later use makes it anew", async () => {
  const ctx = new Context({ plugins: [] });
  const closed: string[] = [];
  let made = 0;
  const make = (name: string) => () => ({ n: ++made, close: async () => void closed.push(name) });
  expect(ctx.resource("pool")).toBeUndefined();
  const a = ctx.resource("pool", make("pool"));
  expect(ctx.resource("pool", make("pool"))).toBe(a);
  expect(ctx.resource("pool")).toBe(a);
  ctx.resource("cache", make("cache"));
  expect(made).toBe(2);
  await ctx.close();
  expect(closed.sort()).toEqual(["cache", "pool"]);
  expect(ctx.resource("pool")).toBeUndefined();
  expect(ctx.resource("pool", make("pool"))).not.toBe(a);
  await ctx.close();
  expect(closed).toHaveLength(3);
});
