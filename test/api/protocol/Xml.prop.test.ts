import * as EC2 from "@aws-sdk/client-ec2"
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Xml from "../../../src/api/protocol/Xml.js"
import { answer } from "./sdk.js"
import { parse } from "./xmlCheck.js"

// Any UTF-16 content: lone surrogates, C0 controls, markup characters, U+FFFE/U+FFFF, astral pairs.
const hostile = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc
    .array(
      fc.oneof(
        fc.integer({ min: 0, max: 0x1f }),
        fc.integer({ min: 0xd800, max: 0xdfff }),
        fc.constantFrom(0x26, 0x3c, 0x3e, 0x22, 0x27, 0x0d, 0x0a, 0x09, 0x5d, 0xfffe, 0xffff),
        fc.integer({ min: 0, max: 0xffff })
      ),
      { maxLength: 30 }
    )
    .map((codes) => String.fromCharCode(...codes)),
  fc.constantFrom("]]>", "<![CDATA[x]]>", "&amp;", "&#0;", "</requestId>", "\r\n", " lead and trail ")
)

// @aws-sdk/xml-builder reads whitespace-only text containing a line feed as indentation, i.e. "".
const sdkReads = (sent: string): string => (sent.trim() === "" && sent.includes("\n") ? "" : sent)

describe("XML output", () => {
  it("is well-formed for any string, and reads back as the string with what XML 1.0 cannot carry replaced", () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, (key, value, requestId) => {
        const xml = Xml.response("DescribeTags", { Tags: [{ Key: key, Value: value, ResourceId: "i-1", ResourceType: "instance" }] }, requestId)
        const root = parse(xml)
        expect(root.child("requestId").text).toBe(Xml.sanitize(requestId))
        const item = root.child("tagSet").child("item")
        expect(item.child("key").text).toBe(Xml.sanitize(key))
        expect(item.child("value").text).toBe(Xml.sanitize(value))
      }),
      { numRuns: 2000 }
    )
  })

  it("keeps error documents well-formed for any message", () => {
    fc.assert(
      fc.property(hostile, hostile, (message, requestId) => {
        const root = parse(Xml.errorBody("InvalidParameterValue", message, requestId))
        expect(root.name).toBe("Response")
        expect(root.child("Errors").child("Error").child("Message").text).toBe(Xml.sanitize(message))
        expect(root.child("RequestID").text).toBe(Xml.sanitize(requestId))
      }),
      { numRuns: 2000 }
    )
  })

  it("writes timestamps exactly as Date#toISOString (ISO 8601 with milliseconds)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 253402300799999 }), fc.integer({ min: -8.64e15, max: 8.64e15 })), (ms) => {
        expect(Xml.isoTime(ms)).toBe(new Date(ms).toISOString())
      }),
      { numRuns: 20_000 }
    )
  })

  it("escapes to text that the AWS SDK reads back unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 20 }), hostile, async (printable, any) => {
        const xml = Xml.response("DescribeTags", { Tags: [{ Key: printable, Value: any }] }, "r")
        const { output, error } = await answer(new EC2.DescribeTagsCommand({}), 200, Xml.headers("r"), xml)
        expect(error).toBeUndefined()
        const tag = (output as EC2.DescribeTagsCommandOutput).Tags?.[0]
        expect(tag?.Key ?? "").toBe(sdkReads(printable))
        expect(tag?.Value ?? "").toBe(sdkReads(Xml.sanitize(any)))
      }),
      { numRuns: 300 }
    )
  })
})
