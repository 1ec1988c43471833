"""Avatars: uploads are decoded, cropped, resized and re-encoded; an identicon stands in for none."""

import io
import struct
import zlib

import pytest
from PIL import Image


def image_bytes(fmt, size=(600, 400), color=(200, 30, 30), **save):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def decoded(data):
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_an_uploaded_png_is_served_square_and_resized(api):
    me = api.user("alice")
    response = api.client.put("/me/avatar", headers={**me, "Content-Type": "image/png"},
                              data=image_bytes("PNG"))
    assert response.status_code == 200, response.json
    assert response.json["has_avatar"] is True
    served = api.client.get("/users/alice/avatar")
    assert served.status_code == 200 and served.content_type == "image/png"
    image = decoded(served.data)
    assert image.format == "PNG" and image.size == (256, 256)
    assert image.getpixel((128, 128))[:3] == (200, 30, 30)
    [event] = api.event_data("identity.user.profile_updated")
    assert event["changed"] == ["avatar"]


def test_a_jpeg_loses_its_metadata_when_re_encoded(api):
    me = api.user("alice")
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    exif[0x0131] = "camera firmware"
    original = image_bytes("JPEG", exif=exif.tobytes())
    assert b"secret description" in original
    response = api.client.put("/me/avatar", headers={**me, "Content-Type": "image/jpeg"}, data=original)
    assert response.status_code == 200
    served = api.client.get("/users/alice/avatar")
    assert served.content_type == "image/jpeg"
    assert b"secret description" not in served.data and decoded(served.data).size == (256, 256)


def test_the_first_frame_of_a_gif_becomes_a_png_and_multipart_uploads_work(api):
    me = api.user("alice")
    frames = [Image.new("P", (64, 64), i) for i in (1, 2)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    response = api.client.put("/me/avatar", headers=me, content_type="multipart/form-data",
                              data={"avatar": (io.BytesIO(out.getvalue()), "me.gif")})
    assert response.status_code == 200, response.json
    image = decoded(api.client.get("/users/alice/avatar").data)
    assert image.format == "PNG" and image.size == (256, 256)


def test_without_an_upload_an_identicon_is_served_the_same_every_time(api):
    api.signup("alice")
    api.signup("bob")
    first = api.client.get("/users/alice/avatar")
    assert first.status_code == 200 and first.content_type == "image/png"
    assert decoded(first.data).size == (256, 256)
    assert api.client.get("/users/alice/avatar").data == first.data
    assert api.client.get("/users/bob/avatar").data != first.data
    assert len(decoded(first.data).getcolors()) == 2  # background and one colour


def test_avatars_answer_not_modified_to_a_matching_etag(api):
    api.signup("alice")
    first = api.client.get("/users/alice/avatar")
    again = api.client.get("/users/alice/avatar", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_removing_the_avatar_brings_the_identicon_back(api):
    me = api.user("alice")
    identicon = api.client.get("/users/alice/avatar").data
    api.client.put("/me/avatar", headers=me, data=image_bytes("PNG"), content_type="image/png")
    assert api.client.get("/users/alice/avatar").data != identicon
    assert api.client.delete("/me/avatar", headers=me).json == {"message": "success"}
    assert api.client.get("/users/alice/avatar").data == identicon
    assert api.client.delete("/me/avatar", headers=me).status_code == 404


def png_header_claiming(width, height):
    """A tiny PNG whose header claims huge dimensions (a decompression bomb's shape)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + \
        chunk(b"IEND", b"")


@pytest.mark.parametrize("data, status", [
    (b"", 400),
    (b"definitely not an image", 400),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 400),
    (png_header_claiming(100_000, 100_000), 400),
    (png_header_claiming(5000, 10), 400),
    (image_bytes("PNG")[:100], 400),
    (image_bytes("BMP"), 400),
])
def test_unusable_uploads_answer_400_and_change_nothing(api, data, status):
    me = api.user("alice")
    before = api.count_events()
    response = api.client.put("/me/avatar", headers=me, data=data, content_type="image/png")
    assert response.status_code == status
    assert response.json["message"]
    assert api.client.get("/me/profile", headers=me).json["has_avatar"] is False
    assert api.count_events() == before


def test_an_oversized_upload_answers_413(api, identity):
    me = api.user("alice")
    big = image_bytes("PNG", size=(2000, 2000), compress_level=0)
    assert len(big) > identity.settings.avatar_max_bytes
    response = api.client.put("/me/avatar", headers=me, data=big, content_type="image/png")
    assert response.status_code == 413
    assert response.json["message"] == "The avatar must be at most 1024 KiB"


def test_avatar_upload_needs_authentication_and_unknown_users_have_none(api):
    response = api.client.put("/me/avatar", data=image_bytes("PNG"), content_type="image/png")
    assert response.status_code == 401
    assert response.json == {"message": "This resource requires authentication"}
    assert api.client.get("/users/ghost/avatar").status_code == 404
