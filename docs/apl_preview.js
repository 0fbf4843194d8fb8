// A preview of an APL document in a browser: the subset of APL that skill/apl/*.json uses,
// rendered to HTML the way an Echo lays it out. Not Amazon's renderer; close enough to see
// the layout, the sizes and the words at each viewport (docs/render_apl.py drives it).
//
// Supported: resources (colors, dimensions) with `when`; ${...} data binding (payload,
// viewport, elapsedTime, data, @resources, Math); Frame, Container (direction,
// justifyContent, alignItems, padding, spacing, data-driven children) and Text (color,
// fontSize, fontWeight, textAlign, lineHeight, letterSpacing, maxLines, opacity); `when` on
// components; dimensions in dp, vw, vh and %.
"use strict";

function renderApl(root, apl, datasources, viewport, elapsedTime) {
  const resources = {};
  const base = {payload: datasources, viewport: viewport, elapsedTime: elapsedTime, Math: Math};
  for (const block of apl.resources || []) {
    if (block.when !== undefined && !truthy(evaluate(block.when, base, resources))) continue;
    for (const kind of ["colors", "dimensions", "numbers", "strings"]) {
      Object.assign(resources, block[kind] || {});
    }
  }
  const template = apl.mainTemplate;
  const context = Object.assign({}, base);
  for (const name of template.parameters || []) context[name] = datasources;
  root.style.width = viewport.width + "px";
  root.style.height = viewport.height + "px";
  for (const item of template.items || []) {
    for (const node of inflate(item, context, resources, viewport)) root.appendChild(node);
  }
}

function truthy(value) {
  return value !== false && value !== null && value !== undefined && value !== "" && value !== 0;
}

// One ${...} expression, in the data-binding context. APL's expression language is a subset
// of JavaScript's; @name reads a resource.
function expression(text, context, resources) {
  const js = text.replace(/@([A-Za-z_]\w*)/g, (_, name) => "__resources[" + JSON.stringify(name) + "]");
  const scope = Object.assign({__resources: resources}, context);
  return new Function("scope", "with (scope) { return (" + js + "); }")(scope);
}

// A property value: a whole "${...}" keeps its type, text with ${...} inside is joined as
// a string, and a value naming a resource ("@edge") is that resource.
function evaluate(value, context, resources) {
  if (typeof value !== "string") return value;
  const whole = value.match(/^\$\{([^}]*)\}$/);
  let out;
  if (whole) {
    out = expression(whole[1], context, resources);
  } else {
    out = value.replace(/\$\{([^}]*)\}/g, (_, e) => {
      const v = expression(e, context, resources);
      return v === undefined || v === null ? "" : String(v);
    });
  }
  if (typeof out === "string" && /^@\w+$/.test(out)) out = resources[out.slice(1)];
  return out;
}

function dimension(value, viewport) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return value + "px";
  const m = String(value).trim().match(/^(-?[\d.]+)\s*(dp|px|vw|vh|%)?$/);
  if (!m) return undefined;
  const n = parseFloat(m[1]);
  switch (m[2]) {
    case "vw": return (n * viewport.width / 100) + "px";
    case "vh": return (n * viewport.height / 100) + "px";
    case "%": return n + "%";
    default: return n + "px";  // dp: the preview draws at one pixel per dp
  }
}

const JUSTIFY = {start: "flex-start", end: "flex-end", center: "center",
                 spaceBetween: "space-between", spaceAround: "space-around"};
const ALIGN = {start: "flex-start", end: "flex-end", center: "center", stretch: "stretch",
               baseline: "baseline"};

function inflate(component, context, resources, viewport) {
  const get = (name) => evaluate(component[name], context, resources);
  if (component.when !== undefined && !truthy(get("when"))) return [];
  const node = document.createElement("div");
  node.className = "apl-" + component.type;
  const style = node.style;
  style.boxSizing = "border-box";
  const size = (css, name) => { const d = dimension(get(name), viewport); if (d) style[css] = d; };
  size("width", "width"); size("height", "height");
  size("paddingLeft", "paddingLeft"); size("paddingRight", "paddingRight");
  size("paddingTop", "paddingTop"); size("paddingBottom", "paddingBottom");
  if (component.opacity !== undefined) style.opacity = get("opacity");
  if (component.type === "Frame") {
    style.display = "flex";
    style.flexDirection = "column";
    if (component.backgroundColor) style.backgroundColor = get("backgroundColor");
    size("borderRadius", "borderRadius");
    style.overflow = "hidden";
  } else if (component.type === "Container") {
    style.display = "flex";
    style.flexDirection = get("direction") === "row" ? "row" : "column";
    style.justifyContent = JUSTIFY[get("justifyContent") || "start"];
    style.alignItems = ALIGN[get("alignItems") || "stretch"];
  } else if (component.type === "Text") {
    node.textContent = get("text");
    style.color = get("color") || "#FAFAFA";
    style.fontSize = dimension(get("fontSize") || "40dp", viewport);
    style.fontWeight = get("fontWeight") === "bold" ? "700" : (get("fontWeight") || "400");
    style.textAlign = get("textAlign") || "auto";
    style.lineHeight = String(get("lineHeight") || 1.25);
    if (component.letterSpacing) style.letterSpacing = dimension(get("letterSpacing"), viewport);
    const lines = get("maxLines");
    if (lines) {
      style.display = "-webkit-box";
      style.webkitBoxOrient = "vertical";
      style.webkitLineClamp = String(lines);
      style.overflow = "hidden";
    }
  } else {
    throw new Error("the preview does not draw " + component.type);
  }
  const children = [].concat(component.item || [], component.items || []);
  const data = component.data !== undefined ? get("data") : undefined;
  const direction = style.flexDirection;
  let first = true;
  const add = (child, childContext) => {
    for (const made of inflate(child, childContext, resources, viewport)) {
      const spacing = evaluate(child.spacing, childContext, resources);
      if (!first && spacing !== undefined) {
        made.style[direction === "row" ? "marginLeft" : "marginTop"] = dimension(spacing, viewport);
      }
      node.appendChild(made);
      first = false;
    }
  };
  if (Array.isArray(data)) {
    data.forEach((item, index) => {
      for (const child of children) add(child, Object.assign({}, context, {data: item, index: index}));
    });
  } else {
    for (const child of children) add(child, context);
  }
  return [node];
}
